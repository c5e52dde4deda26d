//! Seeding of the demo's Lambda functions (with their IAM role), SNS topics and Cognito user
//! pool.

use aws_sdk_cognitoidentityprovider::types::{
    DeletionProtectionType, PasswordPolicyType, UserPoolMfaType, UserPoolPolicyType,
    UsernameAttributeType, VerifiedAttributeType,
};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, Runtime};

use super::storage::DOCUMENTS_BUCKET;
use super::{
    CASES_TABLE, DEMO_REGION, DemoAwsError, MOTO_ACCOUNT, ONCALL_TOPIC_ARN, SESSIONS_TABLE, Seeder,
    seed_error,
};

/// The IAM role the demo functions run as. moto only accepts a function whose role exists.
pub const LAMBDA_ROLE: &str = "authbridge-demo-lambda";

/// The name prefix shared by every demo function.
pub const FUNCTION_PREFIX: &str = "authbridge-demo-";

/// The ARN of the demo topic without subscriptions.
pub const SECURITY_TOPIC_ARN: &str =
    "arn:aws:sns:eu-west-1:123456789012:authbridge-demo-security-alerts";

/// The name of the demo user pool: email sign-in, 12-character passwords and no deletion
/// protection.
pub const USER_POOL: &str = "authbridge-demo-users";

/// Page size of ListUserPools, which accepts 1 to 60.
const POOLS_PER_PAGE: i32 = 60;

/// Trust policy that lets Lambda assume [`LAMBDA_ROLE`].
const LAMBDA_TRUST_POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;

/// Source of the handler every demo function deploys. moto stores functions without running
/// them.
const HANDLER_SOURCE: &[u8] = b"exports.handler = async () => ({ statusCode: 200 });\n";

impl Seeder {
    /// Creates [`LAMBDA_ROLE`] and three Node.js 20 functions: `authbridge-demo-cases-api`,
    /// `authbridge-demo-documents-upload` and `authbridge-demo-documents-export`. Only the
    /// upload function of the two document functions has `DOCUMENTS_BUCKET` set. Functions that exist get their runtime, role, handler and
    /// environment again.
    pub async fn seed_lambda(&self) -> Result<(), DemoAwsError> {
        let role = create_lambda_role(&aws_sdk_iam::Client::new(&self.config)).await?;
        let client = aws_sdk_lambda::Client::new(&self.config);
        let cases = ("CASES_TABLE", CASES_TABLE);
        let functions: [(&str, Vec<(&str, &str)>); 3] = [
            ("cases-api", vec![cases, ("SESSIONS_TABLE", SESSIONS_TABLE)]),
            (
                "documents-upload",
                vec![cases, ("DOCUMENTS_BUCKET", DOCUMENTS_BUCKET)],
            ),
            ("documents-export", vec![cases]),
        ];
        for (suffix, variables) in functions {
            let name = format!("{FUNCTION_PREFIX}{suffix}");
            put_function(&client, &role, &name, &variables).await?;
        }
        Ok(())
    }

    /// Creates the on-call topic of [`ONCALL_TOPIC_ARN`] with an email and an SQS
    /// subscription, and [`SECURITY_TOPIC_ARN`] with none. CreateTopic and Subscribe return
    /// the existing topic or subscription when called again with the same values.
    pub async fn seed_sns(&self) -> Result<(), DemoAwsError> {
        let client = aws_sdk_sns::Client::new(&self.config);
        for arn in [ONCALL_TOPIC_ARN, SECURITY_TOPIC_ARN] {
            let name = arn.rsplit(':').next().unwrap_or(arn);
            client
                .create_topic()
                .name(name)
                .send()
                .await
                .map_err(|err| seed_error(format!("topic {name}"), "CreateTopic", &err))?;
        }
        let subscriptions = [
            ("email", "oncall@example.com".to_string()),
            (
                "sqs",
                format!("arn:aws:sqs:{DEMO_REGION}:{MOTO_ACCOUNT}:authbridge-demo-pager"),
            ),
        ];
        for (protocol, endpoint) in subscriptions {
            client
                .subscribe()
                .topic_arn(ONCALL_TOPIC_ARN)
                .protocol(protocol)
                .endpoint(endpoint)
                .send()
                .await
                .map_err(|err| seed_error(format!("{protocol} subscription"), "Subscribe", &err))?;
        }
        Ok(())
    }

    /// Creates [`USER_POOL`] with email as the username and verified attribute, MFA off,
    /// passwords of at least 12 characters and deletion protection off. A pool of that name
    /// that exists already is kept as it is.
    pub async fn seed_cognito(&self) -> Result<(), DemoAwsError> {
        let client = aws_sdk_cognitoidentityprovider::Client::new(&self.config);
        // NOTE: an existing pool is not updated, because UpdateUserPool in moto 5.2.1 resets
        // every setting missing from the request to moto's defaults, the username attributes
        // included, which AWS keeps and does not let a caller change.
        if user_pool_id(&client).await?.is_some() {
            return Ok(());
        }
        let policies = UserPoolPolicyType::builder()
            .password_policy(PasswordPolicyType::builder().minimum_length(12).build())
            .build();
        client
            .create_user_pool()
            .pool_name(USER_POOL)
            .username_attributes(UsernameAttributeType::Email)
            .auto_verified_attributes(VerifiedAttributeType::Email)
            .mfa_configuration(UserPoolMfaType::Off)
            .policies(policies)
            .deletion_protection(DeletionProtectionType::Inactive)
            .send()
            .await
            .map_err(|err| seed_error(format!("user pool {USER_POOL}"), "CreateUserPool", &err))?;
        Ok(())
    }
}

/// Creates [`LAMBDA_ROLE`] unless it exists and returns its ARN.
async fn create_lambda_role(client: &aws_sdk_iam::Client) -> Result<String, DemoAwsError> {
    let created = client
        .create_role()
        .role_name(LAMBDA_ROLE)
        .assume_role_policy_document(LAMBDA_TRUST_POLICY)
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|service| service.is_entity_already_exists_exception()) => {}
        Err(err) => {
            return Err(seed_error(
                format!("role {LAMBDA_ROLE}"),
                "CreateRole",
                &err,
            ));
        }
    }
    Ok(format!("arn:aws:iam::{MOTO_ACCOUNT}:role/{LAMBDA_ROLE}"))
}

/// Creates a Node.js 20 function with the given environment, or updates the function of that
/// name to the same configuration.
async fn put_function(
    client: &aws_sdk_lambda::Client,
    role: &str,
    name: &str,
    variables: &[(&str, &str)],
) -> Result<(), DemoAwsError> {
    let mut environment = Environment::builder();
    for (key, value) in variables {
        environment = environment.variables(*key, *value);
    }
    let environment = environment.build();
    let created = client
        .create_function()
        .function_name(name)
        .runtime(Runtime::Nodejs20x)
        .role(role)
        .handler("index.handler")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(handler_zip()))
                .build(),
        )
        .environment(environment.clone())
        .send()
        .await;
    match created {
        Ok(_) => Ok(()),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|service| service.is_resource_conflict_exception()) =>
        {
            client
                .update_function_configuration()
                .function_name(name)
                .runtime(Runtime::Nodejs20x)
                .role(role)
                .handler("index.handler")
                .environment(environment)
                .send()
                .await
                .map_err(|err| {
                    seed_error(
                        format!("function {name}"),
                        "UpdateFunctionConfiguration",
                        &err,
                    )
                })?;
            Ok(())
        }
        Err(err) => Err(seed_error(
            format!("function {name}"),
            "CreateFunction",
            &err,
        )),
    }
}

/// Returns the id of the first user pool named [`USER_POOL`], if any.
async fn user_pool_id(
    client: &aws_sdk_cognitoidentityprovider::Client,
) -> Result<Option<String>, DemoAwsError> {
    let mut pages = client
        .list_user_pools()
        .max_results(POOLS_PER_PAGE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(|err| seed_error(format!("user pool {USER_POOL}"), "ListUserPools", &err))?;
        let found = page
            .user_pools()
            .iter()
            .find(|pool| pool.name() == Some(USER_POOL))
            .and_then(|pool| pool.id());
        if let Some(id) = found {
            return Ok(Some(id.to_string()));
        }
    }
    Ok(None)
}

/// Builds a zip archive with one stored (uncompressed) file `index.js` containing
/// [`HANDLER_SOURCE`].
fn handler_zip() -> Vec<u8> {
    const NAME: &[u8] = b"index.js";
    // Both lengths are constants far below the 16- and 32-bit fields of the zip format.
    let name_len = NAME.len() as u16;
    let size = HANDLER_SOURCE.len() as u32;
    let crc = crc32(HANDLER_SOURCE);

    let mut zip = Vec::new();
    // Local file header: version 2.0, no flags, method 0 (stored), no time stamp.
    zip.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    zip.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    zip.extend_from_slice(&crc.to_le_bytes());
    zip.extend_from_slice(&size.to_le_bytes());
    zip.extend_from_slice(&size.to_le_bytes());
    zip.extend_from_slice(&name_len.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip.extend_from_slice(NAME);
    zip.extend_from_slice(HANDLER_SOURCE);

    let directory_offset = zip.len() as u32;
    let mut directory = Vec::new();
    directory.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    directory.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    directory.extend_from_slice(&crc.to_le_bytes());
    directory.extend_from_slice(&size.to_le_bytes());
    directory.extend_from_slice(&size.to_le_bytes());
    directory.extend_from_slice(&name_len.to_le_bytes());
    // Extra field, comment, disk number, attributes and the local header's offset: all 0.
    directory.extend_from_slice(&[0; 12]);
    directory.extend_from_slice(&0u32.to_le_bytes());
    directory.extend_from_slice(NAME);
    let directory_len = directory.len() as u32;
    zip.extend_from_slice(&directory);

    // End of central directory: one entry on disk 0.
    zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    zip.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
    zip.extend_from_slice(&directory_len.to_le_bytes());
    zip.extend_from_slice(&directory_offset.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip
}

/// Returns the CRC-32 (IEEE 802.3) of the bytes, as a zip entry records it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_check_string() {
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn handler_zip_layout() {
        let zip = handler_zip();
        assert_eq!(&zip[..4], &[0x50, 0x4b, 0x03, 0x04]);
        let end = zip.len() - 22;
        assert_eq!(&zip[end..end + 4], &[0x50, 0x4b, 0x05, 0x06]);
        let offset =
            u32::from_le_bytes([zip[end + 16], zip[end + 17], zip[end + 18], zip[end + 19]]);
        assert_eq!(
            &zip[offset as usize..offset as usize + 4],
            &[0x50, 0x4b, 0x01, 0x02]
        );
    }
}
