//! Real servers on 127.0.0.1 that the tests start and stop: a hostile HTTP server, nginx,
//! `openssl s_server`, and moto.

pub mod hostile;
pub mod moto;
pub mod nginx;
pub mod tls_servers;
