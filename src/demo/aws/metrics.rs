//! Seeding of the demo's CloudWatch datapoints and dashboards. Every call goes through the
//! moto bridge, because the AWS SDK for Rust calls CloudWatch with a protocol moto 5.2 does not
//! serve.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};

use super::{DemoAwsError, Seeder, seed_error};

/// The `ApiName` dimension of the demo's API Gateway datapoints.
pub const DEMO_API: &str = "authbridge-demo";

/// The demo dashboard with API Gateway, Lambda and DynamoDB metrics.
pub const SERVICE_DASHBOARD: &str = "authbridge-demo-service";

/// The demo dashboard with API Gateway metrics and no Cognito metric.
pub const AUTH_DASHBOARD: &str = "authbridge-demo-auth";

/// Minutes between two seeded datapoints of a metric.
const DATAPOINT_SPACING_MINUTES: u64 = 15;

/// Latency in milliseconds of the seeded datapoints, newest first: all below one second.
const LATENCY_MS: [f64; 12] = [
    182.0, 240.0, 205.0, 318.0, 264.0, 197.0, 412.0, 230.0, 188.0, 276.0, 221.0, 309.0,
];

/// 5XX error counts of the seeded datapoints, newest first: 10 errors in all. The newest
/// datapoint has an error, so the sum stays above 0 while any datapoint is in the window.
const SERVER_ERRORS: [f64; 12] = [1.0, 2.0, 0.0, 0.0, 1.0, 0.0, 0.0, 4.0, 0.0, 0.0, 2.0, 0.0];

const SERVICE_DASHBOARD_BODY: &str = r#"{"widgets": [
  {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6, "properties": {
    "title": "API", "region": "eu-west-1", "stat": "Sum", "period": 300,
    "metrics": [["AWS/ApiGateway", "5XXError", "ApiName", "authbridge-demo"],
                ["...", "4XXError", ".", "."]]}},
  {"type": "metric", "x": 12, "y": 0, "width": 12, "height": 6, "properties": {
    "title": "Functions", "region": "eu-west-1", "stat": "Sum", "period": 300,
    "metrics": [["AWS/Lambda", "Errors", "FunctionName", "authbridge-demo-cases-api"],
                ["AWS/DynamoDB", "ThrottledRequests", "TableName", "AuthBridgeCases-demo"]]}}
]}"#;

const AUTH_DASHBOARD_BODY: &str = r#"{"widgets": [
  {"type": "metric", "x": 0, "y": 0, "width": 24, "height": 6, "properties": {
    "title": "Sign-in API", "region": "eu-west-1", "stat": "Sum", "period": 300,
    "metrics": [["AWS/ApiGateway", "4XXError", "ApiName", "authbridge-demo"]]}},
  {"type": "text", "x": 0, "y": 6, "width": 24, "height": 2, "properties": {
    "markdown": "Sign-in errors of the AuthBridge demo API"}}
]}"#;

impl Seeder {
    /// Writes twelve `Latency` and `5XXError` datapoints of the API Gateway API [`DEMO_API`],
    /// one every 15 minutes from 5 minutes ago back to 2 hours 50 minutes ago.
    ///
    /// CloudWatch keeps every datapoint it receives, so each run adds another set. The
    /// latency's maximum stays the same, and the error sum grows but never becomes 0.
    pub async fn seed_metrics(&self) -> Result<(), DemoAwsError> {
        let client = aws_sdk_cloudwatch::Client::new(&self.config);
        let now = SystemTime::now();
        let dimension = Dimension::builder().name("ApiName").value(DEMO_API).build();
        let mut request = client.put_metric_data().namespace("AWS/ApiGateway");
        let readings = LATENCY_MS.iter().zip(SERVER_ERRORS.iter()).enumerate();
        for (index, (latency, errors)) in readings {
            let minutes_ago = 5 + DATAPOINT_SPACING_MINUTES * index as u64;
            let at = DateTime::from(now - Duration::from_secs(minutes_ago * 60));
            let datum = |metric: &str, value: f64, unit: StandardUnit| {
                MetricDatum::builder()
                    .metric_name(metric)
                    .dimensions(dimension.clone())
                    .value(value)
                    .unit(unit)
                    .timestamp(at)
                    .build()
            };
            request = request
                .metric_data(datum("Latency", *latency, StandardUnit::Milliseconds))
                .metric_data(datum("5XXError", *errors, StandardUnit::Count));
        }
        request.send().await.map_err(|err| {
            seed_error(format!("metrics of API {DEMO_API}"), "PutMetricData", &err)
        })?;
        Ok(())
    }

    /// Writes the dashboards [`SERVICE_DASHBOARD`] and [`AUTH_DASHBOARD`], replacing
    /// dashboards of the same name.
    pub async fn seed_dashboards(&self) -> Result<(), DemoAwsError> {
        let client = aws_sdk_cloudwatch::Client::new(&self.config);
        for (name, body) in [
            (SERVICE_DASHBOARD, SERVICE_DASHBOARD_BODY),
            (AUTH_DASHBOARD, AUTH_DASHBOARD_BODY),
        ] {
            client
                .put_dashboard()
                .dashboard_name(name)
                .dashboard_body(body)
                .send()
                .await
                .map_err(|err| seed_error(format!("dashboard {name}"), "PutDashboard", &err))?;
        }
        Ok(())
    }
}
