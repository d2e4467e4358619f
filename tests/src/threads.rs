//! Threads: metadata, status derived from their runs, and checkpoint history.
//!
//! A thread is `busy` while one of its runs is pending; when a run segment ends the thread
//! becomes `idle` (success), `interrupted` or `error` (error/timeout), its `values` become the
//! run's final values and a checkpoint is recorded. Rolling a run back removes its checkpoints
//! and restores the values of the latest remaining checkpoint.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::{
    dialect::{Dialect, Shape},
    runs::RunStatus,
};

/// One checkpoint of a thread.
#[derive(Debug, Clone)]
pub(crate) struct Checkpoint {
    pub id: Uuid,
    pub run_id: Option<Uuid>,
    pub values: Map<String, Value>,
    pub messages: Option<Vec<Value>>,
    pub metadata: Map<String, Value>,
}

/// One thread.
#[derive(Debug, Clone)]
pub(crate) struct Thread {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub metadata: Map<String, Value>,
    pub status: &'static str,
    pub values: Option<Map<String, Value>>,
    pub messages: Option<Vec<Value>>,
    /// Oldest first.
    pub checkpoints: Vec<Checkpoint>,
    /// Pending runs on this thread (newest last).
    pub active: Vec<Uuid>,
    /// All runs of the thread.
    pub runs: Vec<Uuid>,
    /// The server's dialect, which shapes the thread's JSON.
    pub dialect: Dialect,
}

impl Thread {
    fn new(id: Uuid, metadata: Map<String, Value>, dialect: Dialect) -> Thread {
        let now = Utc::now();
        Thread {
            id,
            dialect,
            created_at: now,
            updated_at: now,
            metadata,
            status: "idle",
            values: None,
            messages: None,
            checkpoints: Vec::new(),
            active: Vec::new(),
            runs: Vec::new(),
        }
    }

    /// The spec's `Thread` object.
    pub fn to_json(&self) -> Value {
        let d = self.dialect;
        let mut o = json!({
            "thread_id": self.id.to_string(),
            "created_at": d.timestamp(self.created_at),
            "updated_at": d.timestamp(self.updated_at),
            "metadata": self.metadata,
            "status": self.status,
        });
        if let Some(obj) = o.as_object_mut() {
            if let Some(v) = &self.values {
                obj.insert("values".into(), Value::Object(v.clone()));
            }
            if let Some(m) = &self.messages {
                obj.insert("messages".into(), Value::Array(m.clone()));
            }
        }
        d.fill(&mut o, Shape::Thread);
        o
    }

    fn add_checkpoint(&mut self, run_id: Option<Uuid>, source: &str) {
        let step = self.checkpoints.len();
        let mut metadata = Map::new();
        metadata.insert("source".into(), json!(source));
        metadata.insert("step".into(), json!(step));
        if let Some(r) = run_id {
            metadata.insert("run_id".into(), json!(r));
        }
        self.checkpoints.push(Checkpoint {
            id: Uuid::new_v4(),
            run_id,
            values: self.values.clone().unwrap_or_default(),
            messages: self.messages.clone(),
            metadata,
        });
    }
}

/// `ThreadState` JSON of a checkpoint.
pub(crate) fn state_json(c: &Checkpoint, d: Dialect) -> Value {
    let mut o = json!({
        "checkpoint": {"checkpoint_id": c.id},
        "values": c.values,
        "metadata": c.metadata,
    });
    if let (Some(m), Some(obj)) = (&c.messages, o.as_object_mut()) {
        obj.insert("messages".into(), Value::Array(m.clone()));
    }
    d.fill(&mut o, Shape::ThreadState);
    o
}

/// `sub` is contained in `sup` (every key of `sub` has an equal value in `sup`).
pub(crate) fn contains(sup: &Map<String, Value>, sub: &Map<String, Value>) -> bool {
    sub.iter().all(|(k, v)| sup.get(k) == Some(v))
}

/// All threads.
#[derive(Debug)]
pub(crate) struct ThreadStore {
    map: Mutex<HashMap<Uuid, Thread>>,
    dialect: Dialect,
    /// Set once a thread was stored without metadata ([`Dialect::WorkflowServer`]): the
    /// Workflow Server then fails every thread search.
    broken: AtomicBool,
}

impl ThreadStore {
    /// An empty store whose threads speak `dialect`.
    pub fn new(dialect: Dialect) -> ThreadStore {
        ThreadStore {
            map: Mutex::new(HashMap::new()),
            dialect,
            broken: AtomicBool::new(false),
        }
    }

    /// Stores a thread created without `metadata`, as the Workflow Server does before failing
    /// the request; from then on [`ThreadStore::is_broken`].
    pub fn create_broken(&self) {
        let id = Uuid::new_v4();
        if let Ok(mut map) = self.map.lock() {
            map.insert(id, Thread::new(id, Map::new(), self.dialect));
        }
        self.broken.store(true, Ordering::SeqCst);
    }

    /// Whether a thread without metadata was stored (see [`ThreadStore::create_broken`]).
    pub fn is_broken(&self) -> bool {
        self.broken.load(Ordering::SeqCst)
    }

    /// Creates a thread; `Err(existing)` if the id is taken.
    pub fn create(&self, id: Uuid, metadata: Map<String, Value>) -> Result<Thread, Box<Thread>> {
        let Ok(mut map) = self.map.lock() else {
            return Ok(Thread::new(id, metadata, self.dialect));
        };
        if let Some(t) = map.get(&id) {
            return Err(Box::new(t.clone()));
        }
        let t = Thread::new(id, metadata, self.dialect);
        map.insert(id, t.clone());
        Ok(t)
    }

    /// A snapshot of a thread.
    pub fn get(&self, id: Uuid) -> Option<Thread> {
        self.map.lock().ok()?.get(&id).cloned()
    }

    /// Applies `f` to a thread, returning its result.
    pub fn update<R>(&self, id: Uuid, f: impl FnOnce(&mut Thread) -> R) -> Option<R> {
        let mut map = self.map.lock().ok()?;
        map.get_mut(&id).map(f)
    }

    /// Removes a thread.
    pub fn remove(&self, id: Uuid) -> Option<Thread> {
        self.map.lock().ok()?.remove(&id)
    }

    /// All threads (unordered).
    pub fn all(&self) -> Vec<Thread> {
        self.map
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Inserts a thread as is.
    pub fn insert(&self, t: Thread) {
        if let Ok(mut map) = self.map.lock() {
            map.insert(t.id, t);
        }
    }

    /// A run (segment) started on the thread.
    pub fn run_started(&self, id: Uuid, run_id: Uuid) {
        self.update(id, |t| {
            if !t.runs.contains(&run_id) {
                t.runs.push(run_id);
            }
            if !t.active.contains(&run_id) {
                t.active.push(run_id);
            }
            t.status = "busy";
            t.updated_at = Utc::now();
        });
    }

    /// A run segment ended with `status` and final `values`.
    pub fn run_segment_ended(
        &self,
        id: Uuid,
        run_id: Uuid,
        status: RunStatus,
        values: Map<String, Value>,
    ) {
        self.update(id, |t| {
            t.active.retain(|r| *r != run_id);
            t.values = Some(values);
            t.add_checkpoint(Some(run_id), "loop");
            if t.active.is_empty() {
                t.status = match status {
                    RunStatus::Success | RunStatus::Pending => "idle",
                    RunStatus::Interrupted => "interrupted",
                    RunStatus::Error | RunStatus::Timeout => "error",
                };
            }
            t.updated_at = Utc::now();
        });
    }

    /// A run was deleted: drop it and its checkpoints, restore the latest remaining values.
    pub fn forget_run(&self, id: Uuid, run_id: Uuid) {
        self.update(id, |t| {
            t.runs.retain(|r| *r != run_id);
            t.active.retain(|r| *r != run_id);
            let before = t.checkpoints.len();
            t.checkpoints.retain(|c| c.run_id != Some(run_id));
            if t.checkpoints.len() != before {
                let last = t.checkpoints.last();
                t.values = last.map(|c| c.values.clone());
                t.messages = last.and_then(|c| c.messages.clone());
                if t.active.is_empty() {
                    t.status = "idle";
                }
            }
            t.updated_at = Utc::now();
        });
    }

    /// Applies a `ThreadPatch`: merges metadata; new values/messages make a new checkpoint.
    pub fn patch(
        &self,
        id: Uuid,
        metadata: Option<Map<String, Value>>,
        values: Option<Map<String, Value>>,
        messages: Option<Vec<Value>>,
    ) -> Option<Thread> {
        self.update(id, |t| {
            if let Some(m) = metadata {
                t.metadata.extend(m);
            }
            let new_state = values.is_some() || messages.is_some();
            if let Some(v) = values {
                t.values = Some(v);
            }
            if let Some(m) = messages {
                t.messages = Some(m);
            }
            if new_state {
                t.add_checkpoint(None, "update");
            }
            t.updated_at = Utc::now();
            t.clone()
        })
    }

    /// Copies a thread (state and history, not runs) under a new id.
    pub fn copy(&self, id: Uuid) -> Option<Thread> {
        let src = self.get(id)?;
        let now = Utc::now();
        let t = Thread {
            id: Uuid::new_v4(),
            created_at: now,
            updated_at: now,
            status: "idle",
            active: Vec::new(),
            runs: Vec::new(),
            ..src
        };
        self.insert(t.clone());
        Some(t)
    }
}
