//! Real servers on 127.0.0.1 that the tests start and stop: a hostile HTTP server, nginx,
//! `openssl s_server`, moto and the CBOR bridge in front of moto.

pub mod cbor_bridge;
pub mod hostile;
pub mod moto;
pub mod nginx;
pub mod tls_servers;
