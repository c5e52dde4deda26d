//! golive's integration tests. They live in one test binary, so that the suite links once.

mod support;

mod access_checks;
mod authbridge_checklist;
mod aws;
mod aws_batch;
mod aws_compute;
mod aws_metrics;
mod aws_storage;
mod cli;
mod cockpit_tmux;
mod demo_aws;
mod demo_target;
mod engine;
mod headers_cors_rate_limit;
mod http_check;
mod journal;
mod loader;
mod record;
mod report;
mod report_check;
mod secrets;
mod session;
mod tls;
mod tui;
mod waivers;
