//! The stream adapter: a [`crate::RunStream`] as an [`Iterator`].

use super::{Rt, Wrap};
use crate::error::Result;
use crate::event::{RunEvent, TypedEvent};
use crate::run::RunStatus;
use crate::stream::StreamItem;
use futures::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::iter::FusedIterator;
use uuid::Uuid;

/// A run's events, as an iterator: the async [`crate::RunStream`] (rejoined after a dropped
/// connection, each event once), each `next` driving it on the client's runtime until an
/// event arrives or the stream ends. Its accessors are the async stream's.
///
/// ```no_run
/// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
/// let mut events = client.agent("stream")?.stream(&serde_json::json!({"count": 3}))?;
/// for event in events.by_ref() {
///     println!("{:?}", event?);
/// }
/// println!("run {:?} ended {:?}", events.run_id(), events.last_status());
/// # Ok::<(), acp_client_ext::Error>(())
/// ```
///
/// `E` is what it yields: [`RunEvent`]s, or [`TypedEvent`]s after
/// [`values_into`](RunStream::values_into).
pub struct RunStream<E = RunEvent> {
    rt: Rt,
    /// Always there, but for [`Drop`], which drops it inside the runtime.
    inner: Option<crate::RunStream<E>>,
    /// `next` returned `None`: it does so from then on.
    done: bool,
}

impl<E> fmt::Debug for RunStream<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("blocking::RunStream")
            .field("inner", &self.inner)
            .finish()
    }
}

impl Wrap for RunStream {
    type Async = crate::RunStream;
    fn wrap(inner: crate::RunStream, rt: &Rt) -> RunStream {
        RunStream {
            rt: rt.clone(),
            inner: Some(inner),
            done: false,
        }
    }
}

impl RunStream {
    /// This stream with the values of its `values` updates decoded straight into `T`, each
    /// payload parsed once (see [`crate::RunStream::values_into`]): it yields
    /// [`TypedEvent`]s.
    ///
    /// ```no_run
    /// use acp_client_ext::event::TypedEvent;
    /// #[derive(serde::Deserialize)]
    /// struct Progress { i: u32 }
    ///
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let events = client.agent("stream")?.stream(&serde_json::json!({"count": 3}))?;
    /// for event in events.values_into::<Progress>() {
    ///     if let TypedEvent::Values(update) = event? {
    ///         println!("{}: {}", update.status, update.values.i);
    ///     }
    /// }
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn values_into<T: DeserializeOwned + Send + 'static>(mut self) -> RunStream<TypedEvent<T>> {
        let inner = self.inner.take().map(crate::RunStream::values_into);
        RunStream {
            rt: self.rt.clone(),
            inner,
            done: self.done,
        }
    }
}

impl<E> RunStream<E> {
    /// The run's id, once an event or the request named it (see [`crate::RunStream::run_id`]).
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// assert_eq!(run.stream()?.run_id(), Some(run.run_id()));
    /// # Ok(())
    /// # }
    /// ```
    pub fn run_id(&self) -> Option<Uuid> {
        self.inner.as_ref().and_then(crate::RunStream::run_id)
    }

    /// The id of the last event delivered, for [`RunHandle::stream_from`](super::RunHandle::stream_from)
    /// (see [`crate::RunStream::last_event_id`]).
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// let mut events = run.stream()?;
    /// let _first = events.next();
    /// let last = events.last_event_id().map(str::to_string);
    /// drop(events);
    /// if let Some(last) = last {
    ///     for event in run.stream_from(last)? {
    ///         println!("{:?}", event?);
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn last_event_id(&self) -> Option<&str> {
        self.inner
            .as_ref()
            .and_then(crate::RunStream::last_event_id)
    }

    /// The last run status an event carried (see [`crate::RunStream::last_status`]).
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// let mut events = run.stream()?;
    /// for event in events.by_ref() {
    ///     event?;
    /// }
    /// println!("{:?}", events.last_status());
    /// # Ok(())
    /// # }
    /// ```
    pub fn last_status(&self) -> Option<&RunStatus> {
        self.inner.as_ref().and_then(crate::RunStream::last_status)
    }

    /// How many events may have been delivered twice (see
    /// [`crate::RunStream::suspected_redeliveries`]).
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// let mut events = run.stream()?;
    /// for event in events.by_ref() {
    ///     event?;
    /// }
    /// assert_eq!(events.suspected_redeliveries(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn suspected_redeliveries(&self) -> u64 {
        self.inner
            .as_ref()
            .map_or(0, crate::RunStream::suspected_redeliveries)
    }

    /// What the run asks, once the stream has ended interrupted (see
    /// [`crate::RunStream::interrupt`]).
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// let mut events = run.stream()?;
    /// for event in events.by_ref() {
    ///     event?;
    /// }
    /// if let Some(question) = events.interrupt() {
    ///     println!("the agent asks {}", question.payload());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn interrupt(&self) -> Option<&crate::Interrupt> {
        self.inner.as_ref().and_then(crate::RunStream::interrupt)
    }
}

impl RunStream {
    /// Read the stream to its end and decode its last `values` update into `T` (see
    /// [`crate::RunStream::final_values`]).
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// let mut events = run.stream()?;
    /// let last: Option<serde_json::Value> = events.final_values()?;
    /// # let _ = last;
    /// # Ok(())
    /// # }
    /// ```
    pub fn final_values<T: serde::de::DeserializeOwned>(&mut self) -> crate::Result<Option<T>> {
        match self.inner.as_mut() {
            Some(inner) => self.rt.call(inner.final_values::<T>()),
            None => Ok(None),
        }
    }
}

impl<E> RunStream<E> {
    /// Also cancel the run when this stream is dropped before the run has settled (see
    /// [`crate::RunStream::cancel_on_drop`]; the cancel is sent from the client's runtime).
    ///
    /// ```no_run
    /// # fn demo(run: acp_client_ext::blocking::RunHandle) -> acp_client_ext::Result<()> {
    /// let events = run.stream()?.cancel_on_drop(true);
    /// drop(events); // closes the connection and cancels the run
    /// # Ok(())
    /// # }
    /// ```
    pub fn cancel_on_drop(mut self, yes: bool) -> Self {
        self.inner = self.inner.take().map(|s| s.cancel_on_drop(yes));
        self
    }
}

impl RunStream {
    /// Resume this stream's interrupted run with `payload` and go on streaming after the last
    /// event this stream delivered (see [`crate::RunStream::resume_stream`]).
    ///
    /// ```no_run
    /// let client = acp_client_ext::blocking::Client::new("http://127.0.0.1:8123")?;
    /// let mut events = client.agent("interrupt")?.stream(&serde_json::json!({"interrupts": 1}))?;
    /// for event in events.by_ref() {
    ///     event?; // ends at the interrupt
    /// }
    /// for event in events.resume_stream(serde_json::json!({"answer": "yes"}))? {
    ///     println!("{:?}", event?.status()); // only the events after the resume
    /// }
    /// # Ok::<(), acp_client_ext::Error>(())
    /// ```
    pub fn resume_stream<P: Serialize>(&self, payload: P) -> Result<RunStream> {
        match &self.inner {
            Some(inner) => self.rt.handle(inner.resume_stream(payload)),
            None => Err(super::gone()),
        }
    }
}

impl<E: StreamItem> Iterator for RunStream<E> {
    type Item = Result<E>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let stream = self.inner.as_mut()?;
        let item = match self.rt.block_on(stream.next()) {
            Ok(item) => item,
            // Inside a runtime: the error once, then the end.
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        };
        self.done |= item.is_none();
        item
    }
}

impl<E: StreamItem> FusedIterator for RunStream<E> {}

impl<E> Drop for RunStream<E> {
    fn drop(&mut self) {
        // Dropped inside the runtime, so that a cancel-on-drop can be spawned on it.
        let _guard = self.rt.enter();
        self.inner = None;
    }
}
