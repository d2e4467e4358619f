//! Retries of idempotent requests: exponential backoff with full jitter, bounded in attempts.
//!
//! Only requests that are safe to repeat are retried (GET, wait, joining a stream, cancel). A POST
//! that creates a run is not, unless the caller opts in with
//! [`ClientBuilder::retry_creates`](crate::ClientBuilder::retry_creates): after an ambiguous 504 the
//! first run may exist, and a retry makes a second.

use std::time::Duration;

/// How often and how patiently to retry.
///
/// ```
/// use acp_client_ext::{AcpClient, RetryPolicy};
/// use std::time::Duration;
/// let policy = RetryPolicy { max_retries: 5, initial_backoff: Duration::from_millis(50), max_backoff: Duration::from_secs(1) };
/// let client = AcpClient::builder("http://127.0.0.1:8123").retry(policy.clone()).build()?;
/// assert_eq!(client.retry_policy(), &policy);
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts after the first one; 0 disables retries.
    pub max_retries: u32,
    /// Backoff before the first retry; doubles each time.
    pub initial_backoff: Duration,
    /// Upper bound of one backoff.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Three retries, 100 ms doubling up to 2 s.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    ///
    /// ```
    /// assert_eq!(acp_client_ext::RetryPolicy::none().max_retries, 0);
    /// ```
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// The backoff before retry number `attempt` (1-based): a random duration between zero and
    /// `min(max_backoff, initial_backoff * 2^(attempt-1))` ("full jitter"), so that many clients
    /// retrying at once spread out. A server's `retry:` hint, when given, is the floor.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = acp_client_ext::RetryPolicy::default();
    /// assert!(p.backoff(10, None) <= p.max_backoff);
    /// assert!(p.backoff(1, Some(Duration::from_millis(500))) >= Duration::from_millis(500));
    /// ```
    pub fn backoff(&self, attempt: u32, floor: Option<Duration>) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let cap = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let jittered = cap.mul_f64(rand::random::<f64>());
        match floor {
            Some(f) => jittered.max(f.min(self.max_backoff.max(f))),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(250),
        };
        for attempt in 1..=40 {
            let b = p.backoff(attempt, None);
            assert!(b <= Duration::from_millis(250), "attempt {attempt}: {b:?}");
        }
        for _ in 0..50 {
            assert!(p.backoff(1, None) <= Duration::from_millis(100));
        }
    }

    #[test]
    fn server_retry_hint_is_a_floor() {
        let p = RetryPolicy::default();
        assert!(p.backoff(1, Some(Duration::from_secs(1))) >= Duration::from_secs(1));
    }
}
