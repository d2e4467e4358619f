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
    /// retrying at once spread out. A server's hint (an SSE `retry:`, a `Retry-After`) is a
    /// floor, and `max_backoff` caps the result whatever the hint: a server asking for an hour
    /// gets `max_backoff`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = acp_client_ext::RetryPolicy::default();
    /// assert!(p.backoff(10, None) <= p.max_backoff);
    /// assert!(p.backoff(1, Some(Duration::from_millis(500))) >= Duration::from_millis(500));
    /// assert_eq!(p.backoff(1, Some(Duration::from_secs(3600))), p.max_backoff);
    /// ```
    pub fn backoff(&self, attempt: u32, floor: Option<Duration>) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let cap = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let jittered = cap.mul_f64(rand::random::<f64>());
        jittered
            .max(floor.unwrap_or_default())
            .min(self.max_backoff)
    }
}

/// Successive pauses of one retry loop (a request's retries, a stream's rejoins, a wait's
/// polls): [`RetryPolicy::backoff`] of attempt 1, 2, ... with the server's latest hint.
#[derive(Debug)]
pub(crate) struct Backoff {
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new() -> Backoff {
        Backoff { attempt: 0 }
    }

    /// The next pause.
    pub(crate) fn next(&mut self, policy: &RetryPolicy, hint: Option<Duration>) -> Duration {
        self.attempt = self.attempt.saturating_add(1);
        policy.backoff(self.attempt, hint)
    }
}

/// A `Retry-After` header: delay-seconds or an HTTP date (RFC 9110 §10.2.3); a date in the
/// past is no delay. Anything else is ignored.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
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

    /// Fault 2: `retry: 3600000` (an hour) used to be slept in full.
    #[test]
    fn server_hints_above_the_cap_are_capped_below_it_are_floors() {
        let p = RetryPolicy::default(); // max_backoff 2 s
        for attempt in 1..=5 {
            assert_eq!(
                p.backoff(attempt, Some(Duration::from_millis(3_600_000))),
                p.max_backoff
            );
            let b = p.backoff(attempt, Some(Duration::from_millis(1500)));
            assert!(
                b >= Duration::from_millis(1500) && b <= p.max_backoff,
                "{b:?}"
            );
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
            m
        };
        assert_eq!(retry_after(&h("120")), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after(&h("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::ZERO)
        );
        let later = std::time::SystemTime::now() + Duration::from_secs(600);
        let d = retry_after(&h(&httpdate::fmt_http_date(later))).unwrap();
        assert!(
            d > Duration::from_secs(590) && d <= Duration::from_secs(600),
            "{d:?}"
        );
        assert_eq!(retry_after(&h("soon")), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }
}
