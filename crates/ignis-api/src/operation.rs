//! Which operation a Lambda REST request is: its name (as the service model and the audit trail name
//! it), its IAM action (`lambda:GetFunction`; note Invoke is `lambda:InvokeFunction`) and the resource
//! ARN the action applies to (qualified when the request names a version or alias). Used by the audit
//! trail and by authorization, from the route axum matched.

use axum::http::Method;
use ignis_core::arn;

use crate::lambda::util::Query;

/// One identified operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// The signing/event service (`lambda`, `iam`, `sts`, `logs`, `kms`, `cloudtrail`).
    pub service: &'static str,
    /// Operation name from the service model (`GetFunction`, `Invoke`, ...).
    pub name: String,
    /// The IAM action (`lambda:GetFunction`).
    pub action: String,
    /// The resource ARN the action is evaluated against (`*` for account-wide operations).
    pub resource: String,
    /// Whether the operation only reads.
    pub read_only: bool,
}

impl Operation {
    /// An operation of a non-Lambda service on `resource` (`*` when the service has none).
    pub fn of(service: &'static str, name: &str, resource: impl Into<String>) -> Self {
        let read_only = ["Get", "List", "Describe", "Lookup", "Filter"]
            .iter()
            .any(|p| name.starts_with(p));
        Self {
            service,
            name: name.to_string(),
            action: format!("{service}:{name}"),
            resource: resource.into(),
            read_only,
        }
    }
}

/// The Lambda operation for a request matched to the route `matched` with path parameters `param`.
pub fn lambda_operation(
    method: &Method,
    matched: &str,
    param: impl Fn(&str) -> Option<String>,
    query: &Query,
    region: &str,
    account: &str,
) -> Option<Operation> {
    let route = matched
        .trim_end_matches('/')
        .splitn(3, '/')
        .nth(2)
        .unwrap_or_default();
    let m = method.as_str();
    let function = |qualifier_from_path: Option<String>| {
        function_resource(
            param("name").as_deref(),
            qualifier_from_path.or_else(|| query.get("Qualifier").map(str::to_string)),
            region,
            account,
        )
    };
    let layer = |with_version: bool| {
        let name = param("layer").unwrap_or_default();
        let name = arn::parse_layer_name(&name).unwrap_or(name);
        match (with_version, param("version")) {
            (true, Some(v)) => format!("{}:{v}", arn::layer_arn(region, account, &name)),
            _ => arn::layer_arn(region, account, &name),
        }
    };
    let (name, resource) = match (m, route) {
        ("GET", "functions") => ("ListFunctions", "*".to_string()),
        ("POST", "functions") => ("CreateFunction", String::new()),
        ("GET", "functions/{name}") => ("GetFunction", function(None)),
        ("DELETE", "functions/{name}") => ("DeleteFunction", function(None)),
        ("GET", "functions/{name}/configuration") => ("GetFunctionConfiguration", function(None)),
        ("PUT", "functions/{name}/configuration") => {
            ("UpdateFunctionConfiguration", function(None))
        }
        ("PUT", "functions/{name}/code") => ("UpdateFunctionCode", function(None)),
        ("POST", "functions/{name}/invocations") => ("Invoke", function(None)),
        ("GET", "functions/{name}/versions") => ("ListVersionsByFunction", function(None)),
        ("POST", "functions/{name}/versions") => ("PublishVersion", function(None)),
        ("GET", "functions/{name}/aliases") => ("ListAliases", function(None)),
        ("POST", "functions/{name}/aliases") => ("CreateAlias", function(None)),
        ("GET", "functions/{name}/aliases/{alias}") => ("GetAlias", function(param("alias"))),
        ("PUT", "functions/{name}/aliases/{alias}") => ("UpdateAlias", function(param("alias"))),
        ("DELETE", "functions/{name}/aliases/{alias}") => ("DeleteAlias", function(param("alias"))),
        ("GET", "functions/{name}/policy") => ("GetPolicy", function(None)),
        ("POST", "functions/{name}/policy") => ("AddPermission", function(None)),
        ("DELETE", "functions/{name}/policy/{sid}") => ("RemovePermission", function(None)),
        ("PUT", "functions/{name}/concurrency") => ("PutFunctionConcurrency", function(None)),
        ("DELETE", "functions/{name}/concurrency") => ("DeleteFunctionConcurrency", function(None)),
        ("GET", "functions/{name}/concurrency") => ("GetFunctionConcurrency", function(None)),
        ("GET", "functions/{name}/provisioned-concurrency") if query.get("List").is_some() => {
            ("ListProvisionedConcurrencyConfigs", function(None))
        }
        ("GET", "functions/{name}/provisioned-concurrency") => {
            ("GetProvisionedConcurrencyConfig", function(None))
        }
        ("PUT", "functions/{name}/provisioned-concurrency") => {
            ("PutProvisionedConcurrencyConfig", function(None))
        }
        ("DELETE", "functions/{name}/provisioned-concurrency") => {
            ("DeleteProvisionedConcurrencyConfig", function(None))
        }
        ("GET", "functions/{name}/event-invoke-config") => {
            ("GetFunctionEventInvokeConfig", function(None))
        }
        ("PUT", "functions/{name}/event-invoke-config") => {
            ("PutFunctionEventInvokeConfig", function(None))
        }
        ("POST", "functions/{name}/event-invoke-config") => {
            ("UpdateFunctionEventInvokeConfig", function(None))
        }
        ("DELETE", "functions/{name}/event-invoke-config") => {
            ("DeleteFunctionEventInvokeConfig", function(None))
        }
        ("GET", "functions/{name}/event-invoke-config/list") => {
            ("ListFunctionEventInvokeConfigs", function(None))
        }
        ("GET", "layers") if query.get("find").is_some() => (
            "GetLayerVersionByArn",
            query.get("Arn").unwrap_or("*").to_string(),
        ),
        ("GET", "layers") => ("ListLayers", "*".to_string()),
        ("GET", "layers/{layer}/versions") => ("ListLayerVersions", "*".to_string()),
        ("POST", "layers/{layer}/versions") => ("PublishLayerVersion", layer(false)),
        ("GET", "layers/{layer}/versions/{version}") => ("GetLayerVersion", layer(true)),
        ("DELETE", "layers/{layer}/versions/{version}") => ("DeleteLayerVersion", layer(true)),
        ("GET", "layers/{layer}/versions/{version}/policy") => {
            ("GetLayerVersionPolicy", layer(true))
        }
        ("POST", "layers/{layer}/versions/{version}/policy") => {
            ("AddLayerVersionPermission", layer(true))
        }
        ("DELETE", "layers/{layer}/versions/{version}/policy/{sid}") => {
            ("RemoveLayerVersionPermission", layer(true))
        }
        ("GET", "tags/{arn}") => ("ListTags", param("arn").unwrap_or_default()),
        ("POST", "tags/{arn}") => ("TagResource", param("arn").unwrap_or_default()),
        ("DELETE", "tags/{arn}") => ("UntagResource", param("arn").unwrap_or_default()),
        ("GET", "account-settings") => ("GetAccountSettings", "*".to_string()),
        _ => return None,
    };
    let action = match name {
        "Invoke" => "lambda:InvokeFunction".to_string(),
        "GetLayerVersionByArn" => "lambda:GetLayerVersion".to_string(),
        other => format!("lambda:{other}"),
    };
    let read_only = name.starts_with("Get") || name.starts_with("List");
    Some(Operation {
        service: "lambda",
        name: name.to_string(),
        action,
        resource,
        read_only,
    })
}

/// The ARN of the function a request names (a name, partial ARN or ARN, optionally qualified).
fn function_resource(
    name: Option<&str>,
    qualifier: Option<String>,
    region: &str,
    account: &str,
) -> String {
    let name = name.unwrap_or_default();
    match arn::resolve_function(name, account, region, arn::NameShape::Function) {
        Ok(r) => match r.function.qualifier.or(qualifier) {
            Some(q) => arn::qualified_function_arn(region, &r.account, &r.function.name, &q),
            None => arn::function_arn(region, &r.account, &r.function.name),
        },
        Err(_) => arn::function_arn(region, account, name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(method: Method, matched: &str, params: &[(&str, &str)], query: &str) -> Operation {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let q = Query::parse(Some(query));
        lambda_operation(
            &method,
            matched,
            |k| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()),
            &q,
            "us-east-1",
            "123456789012",
        )
        .expect("known route")
    }

    #[test]
    fn names_actions_and_resources() {
        let o = op(
            Method::POST,
            "/2015-03-31/functions/{name}/invocations",
            &[("name", "f")],
            "Qualifier=live",
        );
        assert_eq!(o.name, "Invoke");
        assert_eq!(o.action, "lambda:InvokeFunction");
        assert_eq!(
            o.resource,
            "arn:aws:lambda:us-east-1:123456789012:function:f:live"
        );
        let o = op(
            Method::GET,
            "/2015-03-31/functions/{name}/aliases/{alias}",
            &[
                ("name", "arn:aws:lambda:us-east-1:123456789012:function:g"),
                ("alias", "live"),
            ],
            "",
        );
        assert_eq!(o.name, "GetAlias");
        assert!(o.read_only);
        assert_eq!(
            o.resource,
            "arn:aws:lambda:us-east-1:123456789012:function:g:live"
        );
        let o = op(Method::GET, "/2015-03-31/functions/", &[], "");
        assert_eq!(
            (o.action.as_str(), o.resource.as_str()),
            ("lambda:ListFunctions", "*")
        );
        let o = op(
            Method::GET,
            "/2019-09-30/functions/{name}/provisioned-concurrency",
            &[("name", "f")],
            "List=ALL",
        );
        assert_eq!(o.name, "ListProvisionedConcurrencyConfigs");
        let o = op(
            Method::DELETE,
            "/2018-10-31/layers/{layer}/versions/{version}",
            &[("layer", "lib"), ("version", "3")],
            "",
        );
        assert_eq!(
            (o.action.as_str(), o.resource.as_str(), o.read_only),
            (
                "lambda:DeleteLayerVersion",
                "arn:aws:lambda:us-east-1:123456789012:layer:lib:3",
                false
            )
        );
    }
}
