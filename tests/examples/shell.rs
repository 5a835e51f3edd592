//! Enough of POSIX `sh` to read the scripts of `examples/` as a shell would: the simple
//! commands of a script, each a list of words after quote removal and expansion of
//! `$NAME`, `${NAME}`, `$?` and `$((...))` (`+` and `-` of numbers and variables). An
//! unquoted expansion is split on blanks, so an empty one adds no word. Redirections and
//! their targets are dropped; `if`, `then`, `exec`, ... before a command are skipped.
//! A variable with no value expands to `<unset-$NAME>`, which no CLI accepts.

/// Values of variables: `None` for one that is not set.
pub type Vars<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Replaces every GitHub Actions expression `${{ expr }}` of `text` with `f(expr)`
/// (`expr` trimmed): GitHub does this before the shell sees the script.
pub fn github_expressions(text: &str, f: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(&f(rest[start + 3..start + len].trim()));
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// The simple commands of `script`, in order, with `vars` for expansions.
pub fn commands(script: &str, vars: Vars<'_>) -> Vec<Vec<String>> {
    let mut lexer = Lexer {
        chars: script.chars().collect(),
        at: 0,
        vars,
        word: None,
        words: Vec::new(),
        commands: Vec::new(),
        redirect: false,
    };
    lexer.run();
    lexer.commands
}

/// Evaluates the inside of `$((...))`: numbers and variable names joined by `+` and `-`;
/// an unset variable is 0, as in `sh`.
pub fn arithmetic(expr: &str, vars: Vars<'_>) -> i64 {
    let spaced = expr.replace('+', " + ").replace('-', " - ");
    let (mut total, mut sign) = (0i64, 1i64);
    for token in spaced.split_whitespace() {
        match token {
            "+" => {}
            "-" => sign = -sign,
            _ => {
                let name = token.trim_start_matches('$');
                let value = match name.parse::<i64>() {
                    Ok(n) => n,
                    Err(_) => vars(name)
                        .unwrap_or_else(|| "0".to_string())
                        .parse()
                        .unwrap_or_else(|_| panic!("$(({expr})): {name} is not a number")),
                };
                total += sign * value;
                sign = 1;
            }
        }
    }
    total
}

/// Words before a command that are not the command.
const KEYWORDS: [&str; 10] = [
    "if", "then", "else", "elif", "do", "while", "until", "!", "{", "exec",
];

struct Lexer<'a> {
    chars: Vec<char>,
    at: usize,
    vars: Vars<'a>,
    word: Option<String>,
    words: Vec<String>,
    commands: Vec<Vec<String>>,
    redirect: bool,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.at += 1;
        c
    }

    fn push(&mut self, c: char) {
        self.word.get_or_insert_with(String::new).push(c);
    }

    fn end_word(&mut self) {
        if let Some(word) = self.word.take() {
            if std::mem::take(&mut self.redirect) {
                return;
            }
            self.words.push(word);
        }
    }

    fn end_command(&mut self) {
        self.end_word();
        let words = std::mem::take(&mut self.words);
        let skip = words
            .iter()
            .take_while(|w| KEYWORDS.contains(&w.as_str()))
            .count();
        if words.len() > skip {
            self.commands.push(words[skip..].to_vec());
        }
    }

    fn run(&mut self) {
        while let Some(c) = self.next() {
            match c {
                '\'' => {
                    self.word.get_or_insert_with(String::new);
                    while let Some(c) = self.next().filter(|&c| c != '\'') {
                        self.push(c);
                    }
                }
                '"' => self.double_quoted(),
                '\\' => match self.next() {
                    Some('\n') | None => {}
                    Some(c) => self.push(c),
                },
                '$' => self.dollar(false),
                '#' if self.word.is_none() => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.at += 1;
                    }
                }
                ' ' | '\t' => self.end_word(),
                '\n' | ';' | '&' | '|' | '(' | ')' => self.end_command(),
                '>' | '<' => self.redirection(),
                c => self.push(c),
            }
        }
        self.end_command();
    }

    fn double_quoted(&mut self) {
        self.word.get_or_insert_with(String::new);
        while let Some(c) = self.next() {
            match c {
                '"' => return,
                '\\' => match self.peek() {
                    Some(n @ ('$' | '`' | '"' | '\\')) => {
                        self.at += 1;
                        self.push(n);
                    }
                    Some('\n') => self.at += 1,
                    _ => self.push('\\'),
                },
                '$' => self.dollar(true),
                c => self.push(c),
            }
        }
    }

    /// `>`, `>>`, `2>&1`, `<`: an fd number before it and the target after it are dropped.
    fn redirection(&mut self) {
        if self
            .word
            .as_deref()
            .is_some_and(|w| w.chars().all(|c| c.is_ascii_digit()))
        {
            self.word = None;
        } else {
            self.end_word();
        }
        while self.peek() == Some('>') {
            self.at += 1;
        }
        if self.peek() == Some('&') {
            self.at += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.at += 1;
            }
        } else {
            self.redirect = true;
        }
    }

    /// After a `$`.
    fn dollar(&mut self, quoted: bool) {
        let rest: String = self.chars[self.at..].iter().take(2).collect();
        if rest == "((" {
            self.at += 2;
            let expr = self.until_close(2);
            let value = arithmetic(&expr, self.vars).to_string();
            self.expand(&value, quoted);
        } else if rest.starts_with('(') {
            self.at += 1;
            self.until_close(1);
            self.expand("<command substitution>", true);
        } else if rest.starts_with('{') {
            self.at += 1;
            let mut name = String::new();
            while let Some(c) = self.next().filter(|&c| c != '}') {
                name.push(c);
            }
            self.variable(&name, quoted);
        } else if rest.starts_with(|c: char| "?@#$!*-0123456789".contains(c)) {
            let name = self.next().map(String::from).unwrap_or_default();
            self.variable(&name, quoted);
        } else if rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            let mut name = String::new();
            while let Some(c) = self
                .peek()
                .filter(|&c| c.is_ascii_alphanumeric() || c == '_')
            {
                self.at += 1;
                name.push(c);
            }
            self.variable(&name, quoted);
        } else {
            self.push('$');
        }
    }

    /// The text up to the parenthesis closing `depth` open ones, consumed.
    fn until_close(&mut self, open: usize) -> String {
        let (mut depth, mut text) = (open, String::new());
        while let Some(c) = self.next() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                break;
            }
            text.push(c);
        }
        // The first `)` of a closing `))` was taken for text.
        text.truncate(text.len().saturating_sub(open - 1));
        text
    }

    fn variable(&mut self, name: &str, quoted: bool) {
        let value = (self.vars)(name).unwrap_or_else(|| format!("<unset-${name}>"));
        self.expand(&value, quoted);
    }

    /// Appends an expansion; unquoted, it is split on blanks.
    fn expand(&mut self, value: &str, quoted: bool) {
        if quoted {
            self.word.get_or_insert_with(String::new).push_str(value);
            return;
        }
        if value.starts_with(char::is_whitespace) {
            self.end_word();
        }
        for (i, part) in value.split_whitespace().enumerate() {
            if i > 0 {
                self.end_word();
            }
            self.word.get_or_insert_with(String::new).push_str(part);
        }
        if value.ends_with(char::is_whitespace) {
            self.end_word();
        }
    }
}
