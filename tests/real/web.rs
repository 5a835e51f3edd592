//! Web admin panels from Debian packages (phpMyAdmin, Adminer, Jupyter): written by the web-servers helper; empty until then.
