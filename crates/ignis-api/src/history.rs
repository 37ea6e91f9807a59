//! Configuration history glue: after a successful Lambda change, snapshot the changed function (its
//! `$LATEST` configuration, versions, aliases, policy, concurrency, tags) or layer version into the
//! [`ConfigHistory`](ignis_audit::ConfigHistory); secrets (environment variable values) are hidden.

use ignis_audit::ConfigItem;
use ignis_core::arn;
use serde_json::{json, Map, Value};

use crate::operation::Operation;
use crate::state::SharedState;

/// Operations that change nothing a configuration item holds.
const NOT_CHANGES: &[&str] = &["Invoke"];

/// Record the state after `op` (which succeeded) if it changed a function or layer.
pub async fn record_change(
    state: &SharedState,
    op: &Operation,
    response: Option<&Value>,
    event_id: &str,
) {
    let Some(history) = state.history.clone() else {
        return;
    };
    if op.service != "lambda" || op.read_only || NOT_CHANGES.contains(&op.name.as_str()) {
        return;
    }
    let item = if op.name.contains("Layer") {
        layer_item(state, op, response, event_id).await
    } else {
        function_item(state, op, response, event_id).await
    };
    let Some(item) = item else {
        return;
    };
    let result = tokio::task::spawn_blocking(move || history.append(item)).await;
    if !matches!(result, Ok(Ok(_))) {
        tracing::error!(operation = %op.name, "configuration item not recorded");
    }
}

fn base_item(state: &SharedState, kind: &str, id: &str, arn: &str, event_id: &str) -> ConfigItem {
    ConfigItem {
        version: "1.3".into(),
        account_id: state.account.clone(),
        configuration_item_capture_time: time::OffsetDateTime::now_utc().unix_timestamp_nanos()
            as f64
            / 1e9,
        configuration_item_status: "OK".into(),
        configuration_state_id: String::new(),
        arn: arn.to_string(),
        resource_type: kind.to_string(),
        resource_id: id.to_string(),
        resource_name: id.to_string(),
        aws_region: state.region.clone(),
        tags: Map::new(),
        related_events: vec![event_id.to_string()],
        configuration: None,
        supplementary_configuration: Map::new(),
    }
}

async fn function_item(
    state: &SharedState,
    op: &Operation,
    response: Option<&Value>,
    event_id: &str,
) -> Option<ConfigItem> {
    let target = if op.resource.starts_with("arn:") {
        op.resource.clone()
    } else {
        response?.get("FunctionArn")?.as_str()?.to_string()
    };
    let name = arn::resolve_function(
        &target,
        &state.account,
        &state.region,
        arn::NameShape::Function,
    )
    .ok()?
    .function
    .name;
    let fn_arn = arn::function_arn(&state.region, &state.account, &name);
    let mut item = base_item(state, "AWS::Lambda::Function", &name, &fn_arn, event_id);
    let Ok(Some(mut cfg)) = state.meta.get_version(&name, "$LATEST").await else {
        item.configuration_item_status = "ResourceDeleted".into();
        return Some(item);
    };
    if let Some(env) = cfg.environment.as_mut() {
        for v in env.variables.values_mut() {
            *v = "HIDDEN_DUE_TO_SECURITY_REASONS".into();
        }
    }
    item.configuration = serde_json::to_string(&cfg).ok();
    let meta = state.meta.get_meta(&name).await.ok().flatten();
    if let Some(meta) = &meta {
        item.tags = meta
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        if let Some(c) = meta.reserved_concurrency {
            item.supplementary_configuration.insert(
                "ReservedConcurrentExecutions".into(),
                Value::String(c.to_string()),
            );
        }
    }
    let mut sup = |key: &str, v: Value| {
        item.supplementary_configuration
            .insert(key.into(), Value::String(v.to_string()));
    };
    if let Ok(versions) = state.meta.list_versions(&name, Some(0), 10_000).await {
        let numbers: Vec<String> = versions
            .into_iter()
            .map(|v| v.version)
            .filter(|v| v != "$LATEST")
            .collect();
        sup("Versions", json!(numbers));
    }
    if let Ok(aliases) = state.meta.list_aliases(&name).await {
        sup("Aliases", json!(aliases));
    }
    if let Ok(Some(policy)) = state.meta.get_policy(&name, "").await {
        sup(
            "Policy",
            json!({"Version": "2012-10-17", "Statement": policy.statements}),
        );
    }
    Some(item)
}

async fn layer_item(
    state: &SharedState,
    op: &Operation,
    response: Option<&Value>,
    event_id: &str,
) -> Option<ConfigItem> {
    let version_arn = match response.and_then(|r| r.get("LayerVersionArn")) {
        Some(Value::String(a)) => a.clone(),
        _ => op.resource.clone(),
    };
    let Some(arn::LayerVersionRef::Version { name, version, .. }) =
        arn::match_layer_version_arn(&version_arn)
    else {
        return None;
    };
    let version: u64 = version.parse().ok()?;
    let mut item = base_item(
        state,
        "AWS::Lambda::LayerVersion",
        &version_arn,
        &version_arn,
        event_id,
    );
    match state.meta.get_layer(&name, version).await {
        Ok(Some(layer)) => {
            item.configuration = serde_json::to_string(&layer).ok();
            if let Ok(Some(policy)) = state.meta.get_layer_policy(&name, version).await {
                item.supplementary_configuration.insert(
                    "Policy".into(),
                    Value::String(
                        json!({"Version": "2012-10-17", "Statement": policy.statements})
                            .to_string(),
                    ),
                );
            }
        }
        _ => item.configuration_item_status = "ResourceDeleted".into(),
    }
    Some(item)
}
