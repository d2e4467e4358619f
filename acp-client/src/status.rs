//! Hand-written methods of the generated [`RunStatus`](crate::types::RunStatus): the one run
//! status of the workspace (`acp-client-ext` re-exports it rather than keeping its own).
//!
//! Reading is lenient (see `xtask/src/postprocess.rs`, rule `open-enum`): a status the spec does
//! not list, such as the `running` of a server in the field, is kept as
//! [`RunStatus::Other`](crate::types::RunStatus::Other) instead of failing the object.

use crate::types::RunStatus;

impl RunStatus {
    /// Reads a status string; never fails: what the spec does not list is
    /// [`RunStatus::Other`] with the text as sent. (`str::parse` stays strict, for user input.)
    ///
    /// ```
    /// use acp_client::types::RunStatus;
    /// assert_eq!(RunStatus::parse("success"), RunStatus::Success);
    /// assert_eq!(RunStatus::parse("running"), RunStatus::Other("running".into()));
    /// ```
    pub fn parse(s: &str) -> RunStatus {
        s.parse()
            .unwrap_or_else(|_| RunStatus::Other(s.to_string()))
    }

    /// The spec's spelling, or the server's for [`RunStatus::Other`].
    ///
    /// ```
    /// use acp_client::types::RunStatus;
    /// assert_eq!(RunStatus::Interrupted.as_str(), "interrupted");
    /// assert_eq!(RunStatus::parse("running").as_str(), "running");
    /// ```
    pub fn as_str(&self) -> &str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Error => "error",
            RunStatus::Success => "success",
            RunStatus::Timeout => "timeout",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Other(s) => s,
        }
    }

    /// Whether the run is over for good: success, error or timeout.
    ///
    /// ```
    /// use acp_client::types::RunStatus;
    /// assert!(RunStatus::Timeout.is_terminal());
    /// assert!(!RunStatus::Interrupted.is_terminal());
    /// assert!(!RunStatus::parse("running").is_terminal());
    /// ```
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            RunStatus::Success | RunStatus::Error | RunStatus::Timeout
        )
    }

    /// Whether the run has stopped making progress on its own: terminal, or interrupted
    /// (waiting for a resume payload). A status the spec does not list is not settled.
    ///
    /// ```
    /// use acp_client::types::RunStatus;
    /// assert!(RunStatus::Interrupted.is_settled());
    /// assert!(!RunStatus::Pending.is_settled());
    /// assert!(!RunStatus::parse("running").is_settled());
    /// ```
    pub fn is_settled(&self) -> bool {
        self.is_terminal() || *self == RunStatus::Interrupted
    }
}
