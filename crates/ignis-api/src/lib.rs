//! HTTP frontend of Ignis: SigV4 authentication, the AWS Lambda REST API (2015-03-31), the services
//! sharing its endpoint (`services`: Query and JSON 1.1 protocols), AWS-shaped errors, presigned code
//! downloads and the health check.

pub mod audit;
pub mod auth;
pub mod authorize;
pub mod error;
pub mod history;
pub mod identity;
pub mod lambda;
pub mod listener;
pub mod metrics;
pub mod operation;
pub mod presign;
pub mod services;
pub mod sigv4;
pub mod state;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, put};
use axum::Router;

use crate::error::{unknown_operation, ApiError};
pub use crate::state::{AppState, Caller, RequestId, SharedState};
use lambda::{
    account, aliases, concurrency, event_invoke_config, functions, invoke, layers, permissions,
    tags, versions,
};

/// The full router of the server.
pub fn router(state: Arc<AppState>) -> Router {
    let fallback = || async { ApiError(unknown_operation()) };
    Router::new()
        .route("/health", get(auth::health))
        .route("/metrics", get(metrics::scrape))
        // IAM, STS (Query) and the JSON 1.1 services (X-Amz-Target)
        .route("/", get(services::dispatch).post(services::dispatch))
        .route(
            &format!("{}{{digest}}", presign::CODE_PATH_PREFIX),
            get(presign::download),
        )
        // Functions
        .route(
            "/2015-03-31/functions",
            get(functions::list_functions).post(functions::create_function),
        )
        .route(
            "/2015-03-31/functions/",
            get(functions::list_functions).post(functions::create_function),
        )
        .route(
            "/2015-03-31/functions/{name}",
            get(functions::get_function).delete(functions::delete_function),
        )
        .route(
            "/2015-03-31/functions/{name}/configuration",
            get(functions::get_function_configuration)
                .put(functions::update_function_configuration),
        )
        .route(
            "/2015-03-31/functions/{name}/code",
            put(functions::update_function_code),
        )
        .route(
            "/2015-03-31/functions/{name}/invocations",
            axum::routing::post(invoke::invoke),
        )
        .route(
            "/2015-03-31/functions/{name}/versions",
            get(versions::list_versions_by_function).post(versions::publish_version),
        )
        .route(
            "/2015-03-31/functions/{name}/aliases",
            get(aliases::list_aliases).post(aliases::create_alias),
        )
        .route(
            "/2015-03-31/functions/{name}/aliases/{alias}",
            get(aliases::get_alias)
                .put(aliases::update_alias)
                .delete(aliases::delete_alias),
        )
        .route(
            "/2015-03-31/functions/{name}/policy",
            get(permissions::get_policy).post(permissions::add_permission),
        )
        .route(
            "/2015-03-31/functions/{name}/policy/{sid}",
            axum::routing::delete(permissions::remove_permission),
        )
        // Concurrency
        .route(
            "/2017-10-31/functions/{name}/concurrency",
            put(concurrency::put_function_concurrency)
                .delete(concurrency::delete_function_concurrency),
        )
        .route(
            "/2019-09-30/functions/{name}/concurrency",
            get(concurrency::get_function_concurrency),
        )
        .route(
            "/2019-09-30/functions/{name}/provisioned-concurrency",
            get(concurrency::get_provisioned_concurrency_config)
                .put(concurrency::put_provisioned_concurrency_config)
                .delete(concurrency::delete_provisioned_concurrency_config),
        )
        // Asynchronous invocation settings
        .route(
            "/2019-09-25/functions/{name}/event-invoke-config",
            get(event_invoke_config::get_function_event_invoke_config)
                .put(event_invoke_config::put_function_event_invoke_config)
                .post(event_invoke_config::update_function_event_invoke_config)
                .delete(event_invoke_config::delete_function_event_invoke_config),
        )
        .route(
            "/2019-09-25/functions/{name}/event-invoke-config/list",
            get(event_invoke_config::list_function_event_invoke_configs),
        )
        // Layers
        .route("/2018-10-31/layers", get(layers::list_layers))
        .route(
            "/2018-10-31/layers/{layer}/versions",
            get(layers::list_layer_versions).post(layers::publish_layer_version),
        )
        .route(
            "/2018-10-31/layers/{layer}/versions/{version}",
            get(layers::get_layer_version).delete(layers::delete_layer_version),
        )
        .route(
            "/2018-10-31/layers/{layer}/versions/{version}/policy",
            get(permissions::get_layer_version_policy)
                .post(permissions::add_layer_version_permission),
        )
        .route(
            "/2018-10-31/layers/{layer}/versions/{version}/policy/{sid}",
            axum::routing::delete(permissions::remove_layer_version_permission),
        )
        // Tags and account
        .route(
            "/2017-03-31/tags/{arn}",
            get(tags::list_tags)
                .post(tags::tag_resource)
                .delete(tags::untag_resource),
        )
        .route(
            "/2016-08-19/account-settings",
            get(account::get_account_settings),
        )
        .route(
            "/2016-08-19/account-settings/",
            get(account::get_account_settings),
        )
        .route_layer(axum::middleware::from_fn(metrics::mark_route))
        .fallback(fallback)
        .method_not_allowed_fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authorize::authorize,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit::record,
        ))
        .layer(DefaultBodyLimit::max(auth::MAX_REQUEST_BYTES))
        .with_state(state)
}
