//! [`Interrupt`]: what an interrupted run asks, as the waits, the streams and
//! [`RunHandle::run_to_completion`](crate::RunHandle::run_to_completion) hand it over.

use crate::decode::decode_value;
use crate::error::Result;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

/// One interrupt of a run, as [`RunHandle::run_to_completion`](crate::RunHandle::run_to_completion) hands it to its callback: the
/// run, which round it is, and what the agent asks (the interrupt payload).
///
/// ```
/// use acp_client_ext::Interrupt;
/// #[derive(serde::Deserialize)]
/// struct Question { question: String }
/// let i = Interrupt::new(uuid::Uuid::nil(), 1, serde_json::json!({"question": "go on?"}));
/// assert_eq!(i.payload_as::<Question>()?.question, "go on?");
/// assert_eq!(i.round(), 1);
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Interrupt {
    run_id: Uuid,
    round: u32,
    payload: Value,
}

impl Interrupt {
    /// An interrupt of the run `run_id` in round `round` (from 1) asking `payload`.
    ///
    /// ```
    /// let i = acp_client_ext::Interrupt::new(uuid::Uuid::nil(), 2, serde_json::json!({}));
    /// assert_eq!(i.run_id(), uuid::Uuid::nil());
    /// ```
    pub fn new(run_id: Uuid, round: u32, payload: Value) -> Interrupt {
        Interrupt {
            run_id,
            round,
            payload,
        }
    }

    /// The interrupted run.
    ///
    /// ```
    /// let i = acp_client_ext::Interrupt::new(uuid::Uuid::nil(), 1, serde_json::json!({}));
    /// assert!(i.run_id().is_nil());
    /// ```
    pub fn run_id(&self) -> Uuid {
        self.run_id
    }

    /// Which interrupt of the run this is, from 1.
    ///
    /// ```
    /// let i = acp_client_ext::Interrupt::new(uuid::Uuid::nil(), 3, serde_json::json!({}));
    /// assert_eq!(i.round(), 3);
    /// ```
    pub fn round(&self) -> u32 {
        self.round
    }

    /// What the agent asks, untyped.
    ///
    /// ```
    /// let i = acp_client_ext::Interrupt::new(uuid::Uuid::nil(), 1, serde_json::json!({"q": 1}));
    /// assert_eq!(i.payload()["q"], 1);
    /// ```
    pub fn payload(&self) -> &Value {
        &self.payload
    }

    /// What the agent asks, decoded into `T` (e.g. the agent's generated
    /// `...InterruptPayload` type).
    ///
    /// # Errors
    ///
    /// [`Error::Decode`](crate::Error::Decode) naming `T` when the payload does not fit it.
    ///
    /// ```
    /// let i = acp_client_ext::Interrupt::new(uuid::Uuid::nil(), 1, serde_json::json!({"q": 1}));
    /// assert!(i.payload_as::<String>().is_err());
    /// ```
    pub fn payload_as<T: DeserializeOwned>(&self) -> Result<T> {
        decode_value(&self.payload, || {
            format!("interrupt payload of run {}", self.run_id)
        })
    }
}
