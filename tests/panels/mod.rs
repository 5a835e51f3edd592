//! Data-driven probes (`probes/*.toml`) against documented replies of the real products,
//! through `ajar::rules` with a replaying fetcher (no network), plus look-alikes that must
//! not match any shipped probe.
//!
//! - [`datastores`]: HTTP data stores (CouchDB, ClickHouse, InfluxDB, etcd, Solr, ...).
//! - [`infra_a`]: Docker, registry, Kubernetes, kubelet, Consul, Prometheus, MinIO.
//! - [`infra_b`]: NATS, ZooKeeper AdminServer, Hadoop, Airflow, RabbitMQ.
//! - [`admin`]: admin panels (phpMyAdmin, Adminer, Grafana, Jupyter, Portainer, ...).

mod admin;
mod datastores;
mod infra_a;
mod infra_b;
