//! HTTP routes: one router per ACP resource, merged under the shared middleware.
//!
//! | module              | routes |
//! |---------------------|--------|
//! | [`agents`]          | `/agents/search`, `/agents/{agent_id}`, `.../descriptor` |
//! | [`threads`]         | `/threads`, `/threads/search`, `/threads/{thread_id}`, `.../history`, `.../copy` |
//! | [`thread_runs`]     | `/threads/{thread_id}/runs...` |
//! | [`stateless_runs`]  | `/runs...` |
//!
//! Thread and stateless runs share their handlers ([`runs`]): they differ only in where the
//! run lives, which the path extractors resolve. [`middleware`] tracks requests and applies
//! faults (and the operations the dialect lacks); [`request`] holds the parsing helpers.

mod agents;
mod middleware;
mod request;
mod runs;
mod stateless_runs;
mod thread_runs;
mod threads;

use axum::{Router, middleware::from_fn_with_state};

use crate::{errors::render_errors, state::AppState};

/// Builds the application router.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .merge(agents::router())
        .merge(threads::router())
        .merge(thread_runs::router())
        .merge(stateless_runs::router())
        .layer(from_fn_with_state(state.clone(), middleware::track))
        .layer(from_fn_with_state(state.clone(), render_errors))
        .layer(from_fn_with_state(
            state.clone(),
            middleware::workflow_server_head,
        ))
        .layer(axum::middleware::from_fn(middleware::close_after))
        .with_state(state)
}
