//! Table-driven tests of the policy language and evaluator, built from the examples of AWS's IAM
//! JSON policy reference (elements, condition operators, variables) and evaluation-logic pages.

use super::*;

const ACCT: &str = "123456789012";
const OTHER: &str = "999999999999";

fn user(name: &str) -> Principal {
    Principal::Aws {
        arn: format!("arn:aws:iam::{ACCT}:user/{name}"),
        account: ACCT.into(),
        role_arn: None,
    }
}

fn foreign_user(name: &str) -> Principal {
    Principal::Aws {
        arn: format!("arn:aws:iam::{OTHER}:user/{name}"),
        account: OTHER.into(),
        role_arn: None,
    }
}

fn session(role: &str, sess: &str) -> Principal {
    Principal::Aws {
        arn: format!("arn:aws:sts::{ACCT}:assumed-role/{role}/{sess}"),
        account: ACCT.into(),
        role_arn: Some(format!("arn:aws:iam::{ACCT}:role/{role}")),
    }
}

fn fn_arn(name: &str) -> String {
    format!("arn:aws:lambda:us-east-1:{ACCT}:function:{name}")
}

fn identity(doc: &str) -> Policy {
    Policy::parse(doc, PolicyKind::Identity).unwrap_or_else(|e| panic!("{doc}: {e}"))
}

fn resource(doc: &str) -> Policy {
    Policy::parse(doc, PolicyKind::Resource).unwrap_or_else(|e| panic!("{doc}: {e}"))
}

// ---------------------------------------------------------------- wildcards

#[test]
fn wildcard_table() {
    let cases: &[(&str, &str, bool, bool)] = &[
        ("*", "anything", false, true),
        ("*", "", false, true),
        ("lambda:*", "lambda:InvokeFunction", true, true),
        ("lambda:Get*", "lambda:GetFunction", true, true),
        ("lambda:Get*", "lambda:ListFunctions", true, false),
        ("lambda:get*", "lambda:GetFunction", true, true),
        ("lambda:get*", "lambda:GetFunction", false, false),
        ("lambda:?etFunction", "lambda:GetFunction", true, true),
        ("lambda:?etFunction", "lambda:etFunction", true, false),
        (
            "arn:aws:s3:::bucket/*",
            "arn:aws:s3:::bucket/a/b/c",
            false,
            true,
        ),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", false, false),
        (
            "arn:aws:s3:::Bucket/*",
            "arn:aws:s3:::bucket/x",
            false,
            false,
        ),
        ("a*b*c", "aXXbYYc", false, true),
        ("a*b*c", "aXXbYY", false, false),
        (
            "a*a*a*a*b",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            false,
            false,
        ),
        (
            "*:function:f",
            "arn:aws:lambda:us-east-1:1:function:f",
            false,
            true,
        ),
        (
            "*:function:f",
            "arn:aws:lambda:us-east-1:1:function:f:1",
            false,
            false,
        ),
        (
            "*:function:f*",
            "arn:aws:lambda:us-east-1:1:function:f:1",
            false,
            true,
        ),
        ("???", "abc", false, true),
        ("???", "abcd", false, false),
        ("é*", "ébc", false, true),
        ("", "", false, true),
        ("", "a", false, false),
    ];
    for (pat, text, ci, want) in cases {
        assert_eq!(
            wildcard_match(pat, text, *ci),
            *want,
            "{pat} ~ {text} (ci={ci})"
        );
    }
}

// ---------------------------------------------------------------- parsing

#[test]
fn parse_error_table() {
    use PolicyKind::*;
    let cases: &[(PolicyKind, &str, &str)] = &[
        (Identity, "not json", "Syntax errors in policy."),
        (Identity, "[]", "Syntax errors in policy."),
        (
            Identity,
            r#"{"Version":"2012-10-17"}"#,
            "Missing required field Statement",
        ),
        (
            Identity,
            r#"{"Version":"2013-01-01","Statement":[]}"#,
            "The policy must contain a valid version string",
        ),
        (
            Identity,
            r#"{"Statement":{"Action":"s3:*","Resource":"*"}}"#,
            "Missing required field Effect",
        ),
        (
            Identity,
            r#"{"Statement":{"Effect":"Permit","Action":"s3:*","Resource":"*"}}"#,
            "Invalid effect: Permit",
        ),
        (
            Identity,
            r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
            "Policy statement must contain actions.",
        ),
        (
            Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*"}}"#,
            "Policy statement must contain resources.",
        ),
        (
            Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}"#,
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.",
        ),
        (
            Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}}"#,
            "Resource bucket must be in ARN format or \"*\".",
        ),
        (
            Identity,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
            "Policy document should not specify a principal.",
        ),
        (
            Identity,
            r#"{"Statement":[{"Sid":"a","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"a","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
            "Statement IDs (SID) in a single policy must be unique.",
        ),
        (
            Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquale":{"aws:username":"x"}}}}"#,
            "Invalid Condition type : StringEquale",
        ),
        (
            Identity,
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Bogus":1}}"#,
            "Syntax errors in policy.",
        ),
        (
            Trust,
            r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}"#,
            "Missing required field Principal",
        ),
        (
            Trust,
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Resource":"*"}}"#,
            "Has prohibited field Resource",
        ),
        (
            Resource,
            r#"{"Statement":{"Effect":"Allow","Principal":{"Nobody":"x"},"Action":"s3:*","Resource":"*"}}"#,
            "Invalid principal in policy",
        ),
        (
            Resource,
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"s3:*","Resource":"*"}}"#,
            "Invalid principal in policy: \"AWS\":\"bob\"",
        ),
    ];
    for (kind, doc, msg) in cases {
        match Policy::parse(doc, *kind) {
            Ok(p) => panic!("{doc} parsed: {p:?}"),
            Err(e) => assert_eq!(e.0, *msg, "{doc}"),
        }
    }
}

#[test]
fn parse_accepts_documented_shapes() {
    let p = identity(
        r#"{"Version":"2012-10-17","Id":"x","Statement":{"Sid":"1","Effect":"Allow","NotAction":["iam:*"],"NotResource":"arn:aws:iam::*:user/*"}}"#,
    );
    assert_eq!(p.statements.len(), 1);
    assert_eq!(p.id.as_deref(), Some("x"));
    assert!(matches!(p.statements[0].action, NameSpec::Not(_)));
    let t = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com"],"AWS":["123456789012","arn:aws:iam::123456789012:user/a"]},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":true},"NumericLessThan":{"aws:MultiFactorAuthAge":3600}}}]}"#,
        PolicyKind::Trust,
    )
    .unwrap();
    let spec = t.statements[0].principal.as_ref().unwrap();
    assert_eq!(spec.service, vec!["lambda.amazonaws.com"]);
    assert_eq!(spec.aws.len(), 2);
    assert_eq!(t.statements[0].conditions.len(), 2);
    assert_eq!(t.statements[0].conditions[0].values, vec!["true"]);
    assert!(!Policy::parse(r#"{"Statement":[]}"#, PolicyKind::Identity)
        .unwrap()
        .variables());
}

// ---------------------------------------------------------------- conditions

/// (condition block JSON, context keys, expected).
type CondCase = (
    &'static str,
    &'static [(&'static str, &'static [&'static str])],
    bool,
);

fn cond_holds(block: &str, keys: &[(&str, &[&str])]) -> bool {
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{block}}}}}"#
    );
    let p = identity(&doc);
    let mut ctx = RequestContext::new(user("bob"), "s3:GetObject", "arn:aws:s3:::b/k");
    ctx.set("aws:username", "bob");
    for (k, vs) in keys {
        ctx.set_values(k, vs.iter().map(|v| v.to_string()).collect());
    }
    evaluate(&ctx, &[&p], None, ACCT).allowed()
}

#[test]
fn condition_table() {
    let cases: &[CondCase] = &[
        // String operators
        (
            r#"{"StringEquals":{"aws:PrincipalTag/job-category":"iamuser-admin"}}"#,
            &[("aws:PrincipalTag/job-category", &["iamuser-admin"])],
            true,
        ),
        (
            r#"{"StringEquals":{"aws:PrincipalTag/job-category":"iamuser-admin"}}"#,
            &[("aws:PrincipalTag/job-category", &["IAMUSER-admin"])],
            false,
        ),
        (
            r#"{"StringEquals":{"aws:PrincipalTag/job-category":"iamuser-admin"}}"#,
            &[],
            false,
        ),
        (
            r#"{"StringEquals":{"AWS:PRINCIPALTAG/JOB-CATEGORY":"a"}}"#,
            &[("aws:PrincipalTag/job-category", &["a"])],
            true,
        ),
        (
            r#"{"StringEquals":{"s3:prefix":["home/","home/x"]}}"#,
            &[("s3:prefix", &["home/x"])],
            true,
        ),
        (
            r#"{"StringEquals":{"s3:prefix":"home/*"}}"#,
            &[("s3:prefix", &["home/x"])],
            false,
        ),
        (
            r#"{"StringNotEquals":{"s3:prefix":"home/"}}"#,
            &[("s3:prefix", &["home/"])],
            false,
        ),
        (
            r#"{"StringNotEquals":{"s3:prefix":"home/"}}"#,
            &[("s3:prefix", &["other/"])],
            true,
        ),
        (r#"{"StringNotEquals":{"s3:prefix":"home/"}}"#, &[], true),
        (
            r#"{"StringNotEquals":{"s3:prefix":["a","b"]}}"#,
            &[("s3:prefix", &["b"])],
            false,
        ),
        (
            r#"{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"DEV"}}"#,
            &[("aws:PrincipalTag/team", &["dev"])],
            true,
        ),
        (
            r#"{"StringNotEqualsIgnoreCase":{"aws:PrincipalTag/team":"DEV"}}"#,
            &[("aws:PrincipalTag/team", &["dev"])],
            false,
        ),
        (
            r#"{"StringNotEqualsIgnoreCase":{"aws:PrincipalTag/team":"DEV"}}"#,
            &[("aws:PrincipalTag/team", &["ops"])],
            true,
        ),
        (
            r#"{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}"#,
            &[("s3:prefix", &["home/bob/docs"])],
            true,
        ),
        (
            r#"{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/*"]}}"#,
            &[("s3:prefix", &["home/alice/docs"])],
            false,
        ),
        (
            r#"{"StringLike":{"s3:prefix":["","home/"]}}"#,
            &[("s3:prefix", &[""])],
            true,
        ),
        (
            r#"{"StringLike":{"aws:PrincipalTag/cost-center":"cc-??"}}"#,
            &[("aws:PrincipalTag/cost-center", &["cc-12"])],
            true,
        ),
        (
            r#"{"StringLike":{"aws:PrincipalTag/cost-center":"cc-??"}}"#,
            &[("aws:PrincipalTag/cost-center", &["cc-123"])],
            false,
        ),
        (
            r#"{"StringNotLike":{"aws:PrincipalTag/cost-center":"cc-*"}}"#,
            &[("aws:PrincipalTag/cost-center", &["dd-1"])],
            true,
        ),
        (
            r#"{"StringNotLike":{"aws:PrincipalTag/cost-center":"cc-*"}}"#,
            &[("aws:PrincipalTag/cost-center", &["cc-1"])],
            false,
        ),
        (
            r#"{"StringNotLike":{"aws:PrincipalTag/cost-center":"cc-*"}}"#,
            &[],
            true,
        ),
        (
            r#"{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}"#,
            &[("aws:ResourceTag/owner", &["bob"])],
            true,
        ),
        (
            r#"{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}"#,
            &[("aws:ResourceTag/owner", &["eve"])],
            false,
        ),
        (
            r#"{"StringEquals":{"aws:ResourceTag/owner":"${aws:nothere}"}}"#,
            &[("aws:ResourceTag/owner", &[""])],
            false,
        ),
        (
            r#"{"StringEquals":{"aws:ResourceTag/owner":"${aws:nothere, 'x'}"}}"#,
            &[("aws:ResourceTag/owner", &["x"])],
            true,
        ),
        (
            r#"{"StringEquals":{"aws:ResourceTag/owner":"${*}"}}"#,
            &[("aws:ResourceTag/owner", &["*"])],
            true,
        ),
        (
            r#"{"StringEquals":{"aws:ResourceTag/owner":"${*}"}}"#,
            &[("aws:ResourceTag/owner", &["abc"])],
            false,
        ),
        (
            r#"{"StringLike":{"aws:ResourceTag/owner":"a${?}"}}"#,
            &[("aws:ResourceTag/owner", &["ab"])],
            false,
        ),
        (
            r#"{"StringLike":{"aws:ResourceTag/owner":"a${?}"}}"#,
            &[("aws:ResourceTag/owner", &["a?"])],
            true,
        ),
        // IfExists
        (
            r#"{"StringEqualsIfExists":{"ec2:InstanceType":["t1.*","t2.*"]}}"#,
            &[],
            true,
        ),
        (
            r#"{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*"]}}"#,
            &[("ec2:InstanceType", &["t2.micro"])],
            true,
        ),
        (
            r#"{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*"]}}"#,
            &[("ec2:InstanceType", &["m5.large"])],
            false,
        ),
        (
            r#"{"NumericLessThanIfExists":{"s3:max-keys":"10"}}"#,
            &[],
            true,
        ),
        // Numeric
        (
            r#"{"NumericLessThanEquals":{"s3:max-keys":"10"}}"#,
            &[("s3:max-keys", &["10"])],
            true,
        ),
        (
            r#"{"NumericLessThanEquals":{"s3:max-keys":"10"}}"#,
            &[("s3:max-keys", &["11"])],
            false,
        ),
        (
            r#"{"NumericLessThan":{"s3:max-keys":10}}"#,
            &[("s3:max-keys", &["10"])],
            false,
        ),
        (
            r#"{"NumericGreaterThan":{"s3:max-keys":"10"}}"#,
            &[("s3:max-keys", &["10.5"])],
            true,
        ),
        (
            r#"{"NumericGreaterThanEquals":{"s3:max-keys":"10"}}"#,
            &[("s3:max-keys", &["9"])],
            false,
        ),
        (
            r#"{"NumericEquals":{"s3:max-keys":"10"}}"#,
            &[("s3:max-keys", &["10.0"])],
            true,
        ),
        (
            r#"{"NumericNotEquals":{"s3:max-keys":"10"}}"#,
            &[("s3:max-keys", &["10"])],
            false,
        ),
        (
            r#"{"NumericNotEquals":{"s3:max-keys":"10"}}"#,
            &[("s3:max-keys", &["3"])],
            true,
        ),
        (
            r#"{"NumericEquals":{"s3:max-keys":"10"}}"#,
            &[("s3:max-keys", &["ten"])],
            false,
        ),
        (
            r#"{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}"#,
            &[],
            false,
        ),
        // Date
        (
            r#"{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"}}"#,
            &[("aws:CurrentTime", &["2020-04-01T00:00:01Z"])],
            true,
        ),
        (
            r#"{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"}}"#,
            &[("aws:CurrentTime", &["2020-03-31T23:59:59Z"])],
            false,
        ),
        (
            r#"{"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}"#,
            &[("aws:CurrentTime", &["2020-06-30T00:00:00Z"])],
            true,
        ),
        (
            r#"{"DateLessThanEquals":{"aws:CurrentTime":"2020-06-30"}}"#,
            &[("aws:CurrentTime", &["2020-06-30T00:00:00Z"])],
            true,
        ),
        (
            r#"{"DateEquals":{"aws:CurrentTime":"2020-06-30T02:00:00+02:00"}}"#,
            &[("aws:CurrentTime", &["2020-06-30T00:00:00Z"])],
            true,
        ),
        (
            r#"{"DateEquals":{"aws:EpochTime":"1593475200"}}"#,
            &[("aws:EpochTime", &["2020-06-30T00:00:00Z"])],
            true,
        ),
        (
            r#"{"DateNotEquals":{"aws:CurrentTime":"2020-06-30"}}"#,
            &[("aws:CurrentTime", &["2020-07-01"])],
            true,
        ),
        (
            r#"{"DateGreaterThanEquals":{"aws:TokenIssueTime":"2020-06-30T00:00:00.500Z"}}"#,
            &[("aws:TokenIssueTime", &["2020-06-30T00:00:00.250Z"])],
            false,
        ),
        (
            r#"{"DateLessThan":{"aws:CurrentTime":"garbage"}}"#,
            &[("aws:CurrentTime", &["2020-07-01"])],
            false,
        ),
        // Bool
        (
            r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
            &[("aws:SecureTransport", &["true"])],
            true,
        ),
        (
            r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
            &[("aws:SecureTransport", &["false"])],
            false,
        ),
        (
            r#"{"Bool":{"aws:SecureTransport":false}}"#,
            &[("aws:SecureTransport", &["false"])],
            true,
        ),
        (
            r#"{"Bool":{"aws:MultiFactorAuthPresent":"true"}}"#,
            &[],
            false,
        ),
        (
            r#"{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}"#,
            &[],
            true,
        ),
        (
            r#"{"Bool":{"aws:SecureTransport":"TRUE"}}"#,
            &[("aws:SecureTransport", &["true"])],
            true,
        ),
        // Binary
        (
            r#"{"BinaryEquals":{"aws:key":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}"#,
            &[("aws:key", &["QmluYXJ5VmFsdWVJbkJhc2U2NA=="])],
            true,
        ),
        // IP
        (
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            &[("aws:SourceIp", &["203.0.113.9"])],
            true,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            &[("aws:SourceIp", &["203.0.114.9"])],
            false,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8:1234:5678::/64"]}}"#,
            &[("aws:SourceIp", &["2001:db8:1234:5678::1"])],
            true,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"2001:DB8:1234:5678::/64"}}"#,
            &[("aws:SourceIp", &["2001:db8:1234:5679::1"])],
            false,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"10.1.2.3"}}"#,
            &[("aws:SourceIp", &["10.1.2.3"])],
            true,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#,
            &[("aws:SourceIp", &["8.8.8.8"])],
            true,
        ),
        (
            r#"{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}"#,
            &[("aws:SourceIp", &["192.0.2.7"])],
            false,
        ),
        (
            r#"{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}"#,
            &[("aws:SourceIp", &["198.51.100.7"])],
            true,
        ),
        (
            r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
            &[("aws:SourceIp", &["not-an-ip"])],
            false,
        ),
        // ARN
        (
            r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-west-2:123456789012:my-topic"}}"#,
            &[(
                "aws:SourceArn",
                &["arn:aws:sns:us-west-2:123456789012:my-topic"],
            )],
            true,
        ),
        (
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::bucket-*"}}"#,
            &[("aws:SourceArn", &["arn:aws:s3:::bucket-a"])],
            true,
        ),
        (
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::bucket-*"}}"#,
            &[("aws:SourceArn", &["arn:aws:s3:::other"])],
            false,
        ),
        (
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:123456789012:*"}}"#,
            &[("aws:SourceArn", &["arn:aws:sns:eu-west-1:123456789012:t"])],
            true,
        ),
        (
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:123456789012:*"}}"#,
            &[("aws:SourceArn", &["arn:aws:sns:eu-west-1:999999999999:t"])],
            false,
        ),
        (
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:*"}}"#,
            &[("aws:SourceArn", &["arn:aws:sns:eu-west-1:1:t"])],
            false,
        ),
        (
            r#"{"ArnNotEquals":{"aws:SourceArn":"arn:aws:s3:::a"}}"#,
            &[("aws:SourceArn", &["arn:aws:s3:::b"])],
            true,
        ),
        (
            r#"{"ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::a*"}}"#,
            &[("aws:SourceArn", &["arn:aws:s3:::ab"])],
            false,
        ),
        (
            r#"{"ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::a*"}}"#,
            &[],
            true,
        ),
        (
            r#"{"ArnLike":{"aws:SourceArn":"arn:aws:lambda:*:123456789012:function:f:*"}}"#,
            &[(
                "aws:SourceArn",
                &["arn:aws:lambda:us-east-1:123456789012:function:f:prod"],
            )],
            true,
        ),
        // Null
        (r#"{"Null":{"aws:TokenIssueTime":"true"}}"#, &[], true),
        (
            r#"{"Null":{"aws:TokenIssueTime":"true"}}"#,
            &[("aws:TokenIssueTime", &["2020-01-01"])],
            false,
        ),
        (
            r#"{"Null":{"aws:TokenIssueTime":"false"}}"#,
            &[("aws:TokenIssueTime", &["2020-01-01"])],
            true,
        ),
        (r#"{"Null":{"aws:TokenIssueTime":false}}"#, &[], false),
        // Set operators
        (
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}"#,
            &[("aws:TagKeys", &["environment"])],
            true,
        ),
        (
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}"#,
            &[("aws:TagKeys", &["environment", "owner"])],
            false,
        ),
        (
            r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}"#,
            &[],
            true,
        ),
        (
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}"#,
            &[("aws:TagKeys", &["owner", "cost-center"])],
            true,
        ),
        (
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}"#,
            &[("aws:TagKeys", &["owner"])],
            false,
        ),
        (
            r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":["environment"]}}"#,
            &[],
            false,
        ),
        (
            r#"{"ForAllValues:StringLike":{"aws:TagKeys":["key*"]}}"#,
            &[("aws:TagKeys", &["key1", "key2"])],
            true,
        ),
        (
            r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a"]}}"#,
            &[("aws:TagKeys", &["a", "b"])],
            true,
        ),
        (
            r#"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a"]}}"#,
            &[("aws:TagKeys", &["a"])],
            false,
        ),
        (
            r#"{"ForAllValues:StringNotEquals":{"aws:TagKeys":["a"]}}"#,
            &[("aws:TagKeys", &["b", "c"])],
            true,
        ),
        (
            r#"{"ForAllValues:StringNotEquals":{"aws:TagKeys":["a"]}}"#,
            &[("aws:TagKeys", &["b", "a"])],
            false,
        ),
        (
            r#"{"StringEquals":{"aws:TagKeys":"b"}}"#,
            &[("aws:TagKeys", &["a", "b"])],
            true,
        ),
        // Several keys and operators are ANDed
        (
            r#"{"StringEquals":{"aws:a":"1","aws:b":"2"}}"#,
            &[("aws:a", &["1"]), ("aws:b", &["2"])],
            true,
        ),
        (
            r#"{"StringEquals":{"aws:a":"1","aws:b":"2"}}"#,
            &[("aws:a", &["1"]), ("aws:b", &["3"])],
            false,
        ),
        (
            r#"{"StringEquals":{"aws:a":"1"},"Bool":{"aws:SecureTransport":"true"}}"#,
            &[("aws:a", &["1"]), ("aws:SecureTransport", &["true"])],
            true,
        ),
        (
            r#"{"StringEquals":{"aws:a":"1"},"Bool":{"aws:SecureTransport":"true"}}"#,
            &[("aws:a", &["1"])],
            false,
        ),
    ];
    for (block, keys, want) in cases {
        assert_eq!(cond_holds(block, keys), *want, "{block} with {keys:?}");
    }
}

// ---------------------------------------------------------------- evaluation

/// (identity policies, resource policy, principal, action, resource, expected decision).
struct EvalCase {
    name: &'static str,
    identity: Vec<&'static str>,
    resource: Option<&'static str>,
    principal: Principal,
    action: &'static str,
    resource_arn: String,
    want: Decision,
}

#[test]
fn evaluation_table() {
    use Decision::*;
    use DenyReason::*;
    let allow_get_f = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:GetFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f"}}"#;
    let allow_all =
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#;
    let deny_delete = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"lambda:Delete*","Resource":"*"}}"#;
    let not_action = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#;
    let not_resource_deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:*","Resource":"*"},{"Effect":"Deny","Action":"lambda:*","NotResource":"arn:aws:lambda:*:*:function:dev-*"}]}"#;
    let user_var = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:*","Resource":"arn:aws:lambda:*:*:function:${aws:username}-*"}}"#;
    let user_var_old = r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"lambda:*","Resource":"arn:aws:lambda:*:*:function:${aws:username}-*"}}"#;
    let qualified = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f:*"}}"#;
    let case_action = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"LAMBDA:getfunction","Resource":"*"}}"#;
    let rp_user = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/carol"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f"}}"#;
    let rp_account = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f"}}"#;
    let rp_account_root = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f"}}"#;
    let rp_own_account = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f"}}"#;
    let rp_deny_user = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"lambda:*","Resource":"*"}}"#;
    let rp_role = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/worker"},"Action":"lambda:InvokeFunction","Resource":"*"}}"#;
    let rp_everyone = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"lambda:InvokeFunction","Resource":"*"}}"#;
    let rp_not_principal = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"lambda:*","Resource":"*"},{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"lambda:*","Resource":"*"}]}"#;
    let rp_s3 = r#"{"Version":"2012-10-17","Id":"default","Statement":[{"Sid":"s3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","Condition":{"StringEquals":{"AWS:SourceAccount":"123456789012"},"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::my-bucket"}}}]}"#;
    let f = fn_arn("f");
    let cases = vec![
        EvalCase {
            name: "implicit deny without policies",
            identity: vec![],
            resource: None,
            principal: user("bob"),
            action: "lambda:GetFunction",
            resource_arn: f.clone(),
            want: Deny(NoIdentityAllow),
        },
        EvalCase {
            name: "exact allow",
            identity: vec![allow_get_f],
            resource: None,
            principal: user("bob"),
            action: "lambda:GetFunction",
            resource_arn: f.clone(),
            want: Allow,
        },
        EvalCase {
            name: "other function",
            identity: vec![allow_get_f],
            resource: None,
            principal: user("bob"),
            action: "lambda:GetFunction",
            resource_arn: fn_arn("g"),
            want: Deny(NoIdentityAllow),
        },
        EvalCase {
            name: "other action",
            identity: vec![allow_get_f],
            resource: None,
            principal: user("bob"),
            action: "lambda:DeleteFunction",
            resource_arn: f.clone(),
            want: Deny(NoIdentityAllow),
        },
        EvalCase {
            name: "qualified arn not matched by unqualified resource",
            identity: vec![allow_get_f],
            resource: None,
            principal: user("bob"),
            action: "lambda:GetFunction",
            resource_arn: format!("{f}:1"),
            want: Deny(NoIdentityAllow),
        },
        EvalCase {
            name: "action case-insensitive",
            identity: vec![case_action],
            resource: None,
            principal: user("bob"),
            action: "lambda:GetFunction",
            resource_arn: f.clone(),
            want: Allow,
        },
        EvalCase {
            name: "explicit deny beats allow",
            identity: vec![allow_all, deny_delete],
            resource: None,
            principal: user("bob"),
            action: "lambda:DeleteFunction",
            resource_arn: f.clone(),
            want: Deny(ExplicitIdentity),
        },
        EvalCase {
            name: "deny elsewhere does not matter",
            identity: vec![allow_all, deny_delete],
            resource: None,
            principal: user("bob"),
            action: "lambda:GetFunction",
            resource_arn: f.clone(),
            want: Allow,
        },
        EvalCase {
            name: "NotAction allows others",
            identity: vec![not_action],
            resource: None,
            principal: user("bob"),
            action: "lambda:CreateFunction",
            resource_arn: f.clone(),
            want: Allow,
        },
        EvalCase {
            name: "NotAction excludes iam",
            identity: vec![not_action],
            resource: None,
            principal: user("bob"),
            action: "iam:CreateUser",
            resource_arn: "*".into(),
            want: Deny(NoIdentityAllow),
        },
        EvalCase {
            name: "NotResource deny outside dev",
            identity: vec![not_resource_deny],
            resource: None,
            principal: user("bob"),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Deny(ExplicitIdentity),
        },
        EvalCase {
            name: "NotResource deny spares dev",
            identity: vec![not_resource_deny],
            resource: None,
            principal: user("bob"),
            action: "lambda:InvokeFunction",
            resource_arn: fn_arn("dev-x"),
            want: Allow,
        },
        EvalCase {
            name: "username variable match",
            identity: vec![user_var],
            resource: None,
            principal: user("bob"),
            action: "lambda:InvokeFunction",
            resource_arn: fn_arn("bob-x"),
            want: Allow,
        },
        EvalCase {
            name: "username variable mismatch",
            identity: vec![user_var],
            resource: None,
            principal: user("bob"),
            action: "lambda:InvokeFunction",
            resource_arn: fn_arn("eve-x"),
            want: Deny(NoIdentityAllow),
        },
        EvalCase {
            name: "variables off in 2008-10-17",
            identity: vec![user_var_old],
            resource: None,
            principal: user("bob"),
            action: "lambda:InvokeFunction",
            resource_arn: fn_arn("bob-x"),
            want: Deny(NoIdentityAllow),
        },
        EvalCase {
            name: "qualifier wildcard",
            identity: vec![qualified],
            resource: None,
            principal: user("bob"),
            action: "lambda:InvokeFunction",
            resource_arn: format!("{f}:prod"),
            want: Allow,
        },
        EvalCase {
            name: "qualifier wildcard needs a qualifier",
            identity: vec![qualified],
            resource: None,
            principal: user("bob"),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Deny(NoIdentityAllow),
        },
        EvalCase {
            name: "same-account resource policy naming the user suffices",
            identity: vec![],
            resource: Some(rp_user),
            principal: user("carol"),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Allow,
        },
        EvalCase {
            name: "resource policy naming another user",
            identity: vec![],
            resource: Some(rp_user),
            principal: user("bob"),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Deny(NoIdentityAllow),
        },
        EvalCase {
            name: "same-account grant to the account needs identity allow",
            identity: vec![],
            resource: Some(rp_own_account),
            principal: user("bob"),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Deny(NoIdentityAllow),
        },
        EvalCase {
            name: "same-account grant to the account plus identity allow",
            identity: vec![allow_all],
            resource: Some(rp_own_account),
            principal: user("bob"),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Allow,
        },
        EvalCase {
            name: "cross-account needs identity allow",
            identity: vec![],
            resource: Some(rp_account),
            principal: foreign_user("dave"),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Deny(NoIdentityAllow),
        },
        EvalCase {
            name: "cross-account both allow (account id)",
            identity: vec![allow_all],
            resource: Some(rp_account),
            principal: foreign_user("dave"),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Allow,
        },
        EvalCase {
            name: "cross-account both allow (root arn)",
            identity: vec![allow_all],
            resource: Some(rp_account_root),
            principal: foreign_user("dave"),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Allow,
        },
        EvalCase {
            name: "cross-account without resource grant",
            identity: vec![allow_all],
            resource: None,
            principal: foreign_user("dave"),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Deny(NoResourceAllow),
        },
        EvalCase {
            name: "cross-account grant to another account",
            identity: vec![allow_all],
            resource: Some(rp_own_account),
            principal: foreign_user("dave"),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Deny(NoResourceAllow),
        },
        EvalCase {
            name: "resource policy explicit deny",
            identity: vec![allow_all],
            resource: Some(rp_deny_user),
            principal: user("bob"),
            action: "lambda:GetFunction",
            resource_arn: f.clone(),
            want: Deny(ExplicitResource),
        },
        EvalCase {
            name: "resource policy deny for someone else",
            identity: vec![allow_all],
            resource: Some(rp_deny_user),
            principal: user("carol"),
            action: "lambda:GetFunction",
            resource_arn: f.clone(),
            want: Allow,
        },
        EvalCase {
            name: "role ARN principal matches its sessions",
            identity: vec![],
            resource: Some(rp_role),
            principal: session("worker", "s1"),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Allow,
        },
        EvalCase {
            name: "role ARN principal vs another role",
            identity: vec![],
            resource: Some(rp_role),
            principal: session("other", "s1"),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Deny(NoIdentityAllow),
        },
        EvalCase {
            name: "Principal * same account",
            identity: vec![],
            resource: Some(rp_everyone),
            principal: user("bob"),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Allow,
        },
        EvalCase {
            name: "Principal * cross account still needs identity",
            identity: vec![],
            resource: Some(rp_everyone),
            principal: foreign_user("x"),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Deny(NoIdentityAllow),
        },
        EvalCase {
            name: "NotPrincipal deny spares bob",
            identity: vec![],
            resource: Some(rp_not_principal),
            principal: user("bob"),
            action: "lambda:GetFunction",
            resource_arn: f.clone(),
            want: Allow,
        },
        EvalCase {
            name: "NotPrincipal deny hits carol",
            identity: vec![],
            resource: Some(rp_not_principal),
            principal: user("carol"),
            action: "lambda:GetFunction",
            resource_arn: f.clone(),
            want: Deny(ExplicitResource),
        },
        EvalCase {
            name: "service principal with matching conditions",
            identity: vec![],
            resource: Some(rp_s3),
            principal: Principal::Service("s3.amazonaws.com".into()),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Allow,
        },
        EvalCase {
            name: "other service principal",
            identity: vec![],
            resource: Some(rp_s3),
            principal: Principal::Service("sns.amazonaws.com".into()),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Deny(NoResourceAllow),
        },
        EvalCase {
            name: "service without resource policy",
            identity: vec![],
            resource: None,
            principal: Principal::Service("s3.amazonaws.com".into()),
            action: "lambda:InvokeFunction",
            resource_arn: f.clone(),
            want: Deny(NoResourceAllow),
        },
    ];
    for c in &cases {
        let ids: Vec<Policy> = c.identity.iter().map(|d| identity(d)).collect();
        let refs: Vec<&Policy> = ids.iter().collect();
        let rp = c.resource.map(resource);
        let mut ctx = RequestContext::new(c.principal.clone(), c.action, c.resource_arn.clone());
        if let Principal::Aws { arn, .. } = &c.principal {
            if let Some(name) = arn.strip_prefix(&format!("arn:aws:iam::{ACCT}:user/")) {
                ctx.set("aws:username", name);
            }
        }
        if c.name.starts_with("service principal") {
            ctx.set("aws:SourceAccount", ACCT);
            ctx.set("aws:SourceArn", "arn:aws:s3:::my-bucket");
        }
        assert_eq!(
            evaluate(&ctx, &refs, rp.as_ref(), ACCT),
            c.want,
            "{}",
            c.name
        );
    }
}

#[test]
fn service_conditions_must_hold() {
    let rp = resource(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"*","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:s3:::my-bucket"}}}]}"#,
    );
    let s3 = Principal::Service("s3.amazonaws.com".into());
    let base = RequestContext::new(s3, "lambda:InvokeFunction", fn_arn("f"));
    assert!(!evaluate(&base, &[], Some(&rp), ACCT).allowed());
    let wrong = base.clone().with("aws:SourceArn", "arn:aws:s3:::other");
    assert!(!evaluate(&wrong, &[], Some(&rp), ACCT).allowed());
    let right = base.with("aws:SourceArn", "arn:aws:s3:::my-bucket");
    assert!(evaluate(&right, &[], Some(&rp), ACCT).allowed());
}

#[test]
fn trust_policy_evaluation() {
    let trust = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        PolicyKind::Trust,
    )
    .unwrap();
    let role = format!("arn:aws:iam::{ACCT}:role/r");
    let ask = |p: Principal| {
        evaluate(
            &RequestContext::new(p, "sts:AssumeRole", role.clone()),
            &[],
            Some(&trust),
            ACCT,
        )
    };
    assert!(ask(user("alice")).allowed());
    assert!(!ask(user("bob")).allowed());
    let ctx = |p: Principal| RequestContext::new(p, "sts:AssumeRole", role.clone());
    assert_eq!(
        resource_policy_allows(&ctx(user("alice")), &trust),
        Some(PrincipalMatch::Specific)
    );
    assert_eq!(resource_policy_allows(&ctx(user("bob")), &trust), None);
    let by_account = Policy::parse(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}"#,
        PolicyKind::Trust,
    )
    .unwrap();
    assert_eq!(
        resource_policy_allows(&ctx(user("bob")), &by_account),
        Some(PrincipalMatch::Account)
    );
    assert_eq!(
        resource_policy_allows(&ctx(foreign_user("x")), &by_account),
        None
    );
    assert!(ask(Principal::Service("lambda.amazonaws.com".into())).allowed());
}

#[test]
fn access_denied_messages() {
    let cases = [
        (DenyReason::NoIdentityAllow, "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: lambda:GetFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:f because no identity-based policy allows the lambda:GetFunction action"),
        (DenyReason::ExplicitIdentity, "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: lambda:GetFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:f with an explicit deny in an identity-based policy"),
        (DenyReason::ExplicitResource, "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: lambda:GetFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:f with an explicit deny in a resource-based policy"),
        (DenyReason::NoResourceAllow, "User: arn:aws:iam::123456789012:user/bob is not authorized to perform: lambda:GetFunction on resource: arn:aws:lambda:us-east-1:123456789012:function:f because no resource-based policy allows the lambda:GetFunction action"),
    ];
    for (reason, want) in cases {
        assert_eq!(
            access_denied_message(
                "arn:aws:iam::123456789012:user/bob",
                "lambda:GetFunction",
                &fn_arn("f"),
                reason
            ),
            want
        );
    }
}

#[test]
fn dates_parse() {
    let cases: &[(&str, Option<f64>)] = &[
        ("1970-01-01", Some(0.0)),
        ("1970-01-02T00:00:00Z", Some(86_400.0)),
        ("2000-03-01T00:00:00Z", Some(951_868_800.0)),
        ("2020-06-30T00:00:00+0100", Some(1_593_471_600.0)),
        ("1593475200", Some(1_593_475_200.0)),
        ("2020-13-01", None),
        ("2020-06-30T25:00:00Z", None),
        ("yesterday", None),
    ];
    for (s, want) in cases {
        assert_eq!(condition::parse_date(s), *want, "{s}");
    }
}

/// Cost of one authorization decision on the hot path (context + evaluation of a typical user
/// policy). Run: `cargo test --release -p ignis-core policy::tests::eval_cost -- --ignored --nocapture`.
#[test]
#[ignore]
fn eval_cost() {
    let p = identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction","lambda:GetFunction"],"Resource":"arn:aws:lambda:us-east-1:123456789012:function:f"},{"Effect":"Deny","Action":"lambda:DeleteFunction","Resource":"*"},{"Effect":"Allow","Action":"logs:*","Resource":"arn:aws:logs:*:*:log-group:/aws/lambda/${aws:username}*"}]}"#,
    );
    let n = 200_000;
    let start = std::time::Instant::now();
    let mut allowed = 0;
    for _ in 0..n {
        let mut ctx = RequestContext::new(user("bob"), "lambda:InvokeFunction", fn_arn("f"));
        ctx.set("aws:username", "bob");
        ctx.set("aws:EpochTime", "1700000000");
        ctx.set("aws:CurrentTime", "2023-11-14T22:13:20Z");
        if evaluate(&ctx, &[&p], None, ACCT).allowed() {
            allowed += 1;
        }
    }
    let per = start.elapsed().as_nanos() as f64 / n as f64;
    assert_eq!(allowed, n);
    println!("policy evaluation: {per:.0} ns per decision");
}
