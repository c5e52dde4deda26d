//! Seeding of the demo's S3 buckets, KMS keys and GuardDuty detector.

use aws_sdk_guardduty::types::FindingPublishingFrequency;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, BucketVersioningStatus,
    CreateBucketConfiguration, ExpirationStatus, LifecycleRule, LifecycleRuleFilter,
    NoncurrentVersionExpiration, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    VersioningConfiguration,
};

use super::{DEMO_REGION, DemoAwsError, MOTO_ACCOUNT, Seeder, seed_error};

/// The demo bucket with SSE-KMS, a full public access block, versioning and a lifecycle rule.
pub const DOCUMENTS_BUCKET: &str = "authbridge-demo-documents";

/// The demo bucket with SSE-S3 and a full public access block that never had versioning.
pub const EXPORTS_BUCKET: &str = "authbridge-demo-exports";

/// The alias of the demo KMS key with automatic rotation, which encrypts [`DOCUMENTS_BUCKET`].
pub const DOCUMENTS_KEY_ALIAS: &str = "alias/authbridge-demo-documents";

/// The alias of the demo KMS key without automatic rotation.
pub const SESSIONS_KEY_ALIAS: &str = "alias/authbridge-demo-sessions";

impl Seeder {
    /// Creates [`DOCUMENTS_BUCKET`] and [`EXPORTS_BUCKET`] and sets their encryption, public
    /// access block, versioning and lifecycle rules. Buckets that exist are kept and their
    /// settings written again. Versioning of [`EXPORTS_BUCKET`] is never set, so it stays
    /// `Disabled`.
    pub async fn seed_s3(&self) -> Result<(), DemoAwsError> {
        // Path-style URLs, because a bucket name in the host name does not reach moto on an IP
        // address.
        let config = aws_sdk_s3::config::Builder::from(&self.config)
            .force_path_style(true)
            .build();
        let client = aws_sdk_s3::Client::from_conf(config);

        let key_arn = format!("arn:aws:kms:{DEMO_REGION}:{MOTO_ACCOUNT}:{DOCUMENTS_KEY_ALIAS}");
        create_bucket(&client, DOCUMENTS_BUCKET).await?;
        put_encryption(&client, DOCUMENTS_BUCKET, Some(&key_arn)).await?;
        put_public_access_block(&client, DOCUMENTS_BUCKET).await?;
        put_versioning(&client, DOCUMENTS_BUCKET).await?;
        put_lifecycle(&client, DOCUMENTS_BUCKET).await?;

        create_bucket(&client, EXPORTS_BUCKET).await?;
        put_encryption(&client, EXPORTS_BUCKET, None).await?;
        put_public_access_block(&client, EXPORTS_BUCKET).await
    }

    /// Creates the KMS keys of [`DOCUMENTS_KEY_ALIAS`], with automatic rotation, and
    /// [`SESSIONS_KEY_ALIAS`], without. A key that an alias names already is enabled and
    /// gets its rotation setting again.
    pub async fn seed_kms(&self) -> Result<(), DemoAwsError> {
        let client = aws_sdk_kms::Client::new(&self.config);
        for (alias, rotation) in [(DOCUMENTS_KEY_ALIAS, true), (SESSIONS_KEY_ALIAS, false)] {
            let key_id = key_for_alias(&client, alias).await?;
            let resource = || format!("key {alias}");
            client
                .enable_key()
                .key_id(&key_id)
                .send()
                .await
                .map_err(|err| seed_error(resource(), "EnableKey", &err))?;
            if rotation {
                client
                    .enable_key_rotation()
                    .key_id(&key_id)
                    .send()
                    .await
                    .map_err(|err| seed_error(resource(), "EnableKeyRotation", &err))?;
            } else {
                client
                    .disable_key_rotation()
                    .key_id(&key_id)
                    .send()
                    .await
                    .map_err(|err| seed_error(resource(), "DisableKeyRotation", &err))?;
            }
        }
        Ok(())
    }

    /// Enables the region's GuardDuty detector, creating it when there is none, with findings
    /// published every six hours (the GuardDuty default).
    pub async fn seed_guardduty(&self) -> Result<(), DemoAwsError> {
        let client = aws_sdk_guardduty::Client::new(&self.config);
        let frequency = FindingPublishingFrequency::SixHours;
        let detectors = client
            .list_detectors()
            .send()
            .await
            .map_err(|err| seed_error("GuardDuty detector", "ListDetectors", &err))?;
        // GuardDuty allows one detector per account and region, so an existing one is updated.
        match detectors.detector_ids().first() {
            Some(detector_id) => {
                client
                    .update_detector()
                    .detector_id(detector_id)
                    .enable(true)
                    .finding_publishing_frequency(frequency)
                    .send()
                    .await
                    .map_err(|err| {
                        seed_error(format!("detector {detector_id}"), "UpdateDetector", &err)
                    })?;
            }
            None => {
                client
                    .create_detector()
                    .enable(true)
                    .finding_publishing_frequency(frequency)
                    .send()
                    .await
                    .map_err(|err| seed_error("GuardDuty detector", "CreateDetector", &err))?;
            }
        }
        Ok(())
    }
}

/// Creates a bucket in [`DEMO_REGION`] unless the moto account owns it already.
async fn create_bucket(client: &aws_sdk_s3::Client, name: &str) -> Result<(), DemoAwsError> {
    let location = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::from(DEMO_REGION))
        .build();
    match client
        .create_bucket()
        .bucket(name)
        .create_bucket_configuration(location)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|service| service.is_bucket_already_owned_by_you()) =>
        {
            Ok(())
        }
        Err(err) => Err(seed_error(format!("bucket {name}"), "CreateBucket", &err)),
    }
}

/// Sets the default encryption of a bucket: SSE-KMS with `kms_key`, else SSE-S3.
async fn put_encryption(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    kms_key: Option<&str>,
) -> Result<(), DemoAwsError> {
    let operation = "PutBucketEncryption";
    let algorithm = match kms_key {
        Some(_) => ServerSideEncryption::AwsKms,
        None => ServerSideEncryption::Aes256,
    };
    let default_rule = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(algorithm)
        .set_kms_master_key_id(kms_key.map(str::to_string))
        .build()
        .map_err(|err| seed_error(format!("bucket {bucket}"), operation, &err))?;
    let configuration = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(default_rule)
                .build(),
        )
        .build()
        .map_err(|err| seed_error(format!("bucket {bucket}"), operation, &err))?;
    client
        .put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(configuration)
        .send()
        .await
        .map_err(|err| seed_error(format!("bucket {bucket}"), operation, &err))?;
    Ok(())
}

/// Turns on all four flags of a bucket's public access block.
async fn put_public_access_block(
    client: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<(), DemoAwsError> {
    let configuration = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(true)
        .restrict_public_buckets(true)
        .build();
    client
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(configuration)
        .send()
        .await
        .map_err(|err| seed_error(format!("bucket {bucket}"), "PutPublicAccessBlock", &err))?;
    Ok(())
}

async fn put_versioning(client: &aws_sdk_s3::Client, bucket: &str) -> Result<(), DemoAwsError> {
    let configuration = VersioningConfiguration::builder()
        .status(BucketVersioningStatus::Enabled)
        .build();
    client
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(configuration)
        .send()
        .await
        .map_err(|err| seed_error(format!("bucket {bucket}"), "PutBucketVersioning", &err))?;
    Ok(())
}

/// Sets one enabled lifecycle rule that expires object versions 30 days after they become
/// noncurrent.
async fn put_lifecycle(client: &aws_sdk_s3::Client, bucket: &str) -> Result<(), DemoAwsError> {
    let operation = "PutBucketLifecycleConfiguration";
    let rule = LifecycleRule::builder()
        .id("expire-noncurrent")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(30)
                .build(),
        )
        .build()
        .map_err(|err| seed_error(format!("bucket {bucket}"), operation, &err))?;
    let configuration = BucketLifecycleConfiguration::builder()
        .rules(rule)
        .build()
        .map_err(|err| seed_error(format!("bucket {bucket}"), operation, &err))?;
    client
        .put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(configuration)
        .send()
        .await
        .map_err(|err| seed_error(format!("bucket {bucket}"), operation, &err))?;
    Ok(())
}

/// Looks up the key that `alias` names and returns its id. When the alias does not exist, it
/// creates a key and the alias first.
async fn key_for_alias(client: &aws_sdk_kms::Client, alias: &str) -> Result<String, DemoAwsError> {
    let resource = || format!("key {alias}");
    match client.describe_key().key_id(alias).send().await {
        Ok(output) => {
            return match output.key_metadata() {
                Some(metadata) => Ok(metadata.key_id().to_string()),
                None => Err(no_metadata(resource(), "DescribeKey")),
            };
        }
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|service| service.is_not_found_exception()) => {}
        Err(err) => return Err(seed_error(resource(), "DescribeKey", &err)),
    }
    let created = client
        .create_key()
        .description(format!("golive demo key {alias}"))
        .send()
        .await
        .map_err(|err| seed_error(resource(), "CreateKey", &err))?;
    let Some(metadata) = created.key_metadata() else {
        return Err(no_metadata(resource(), "CreateKey"));
    };
    let key_id = metadata.key_id().to_string();
    client
        .create_alias()
        .alias_name(alias)
        .target_key_id(&key_id)
        .send()
        .await
        .map_err(|err| seed_error(resource(), "CreateAlias", &err))?;
    Ok(key_id)
}

fn no_metadata(resource: String, operation: &'static str) -> DemoAwsError {
    DemoAwsError::Seed {
        resource,
        operation,
        detail: "the response has no key metadata".into(),
    }
}
