//! credence-models: the credit model as data — catalogue, scoring, lists and measures; its
//! schema, loading, validation and content hash; and the bundled `baoan` model.
//!
//! - [`vocab`]: the fixed words of the contract (kinds, categories, grades, contexts, decisions)
//! - [`schema`]: serde types of the model as written (JSON over the wire, TOML on disk)
//! - [`model`]: the checked, indexed [`Model`] and its content hash
//! - `relations`: the canonical items and the relations every model must keep (contract §2)
//! - [`load_dir`], [`bundled`]: reading a model directory, the embedded `baoan` model

pub mod model;
mod relations;
pub mod schema;
pub mod vocab;

use std::fmt;
use std::path::Path;

pub use model::{content_hash, Item, ItemId, List, ListId, Measure, Model, Scoring};
pub use schema::{ModelDoc, PerUnit};
pub use vocab::{Category, Context, Decision, Grade, Kind};

/// One thing wrong with a model: where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why a model could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The model was read but is not valid; every problem found is listed.
    #[error("invalid model: {} problem(s)", .0.len())]
    Invalid(Vec<Problem>),
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("parsing {path}: {message}")]
    Parse { path: String, message: String },
}

impl ModelError {
    /// The stable error code a client sees.
    pub fn code(&self) -> &'static str {
        "invalid_model"
    }

    /// Every problem (one for an I/O or parse error).
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            ModelError::Invalid(p) => p.clone(),
            other => vec![Problem::new("$", other.to_string())],
        }
    }
}

/// The file names of a model directory: `model.toml` (name, version, scoring, lists,
/// measures) and `items.toml` (`[[items]]`); a `model.json` alone is also accepted.
pub const MODEL_FILE: &str = "model.toml";
pub const ITEMS_FILE: &str = "items.toml";
pub const JSON_FILE: &str = "model.json";

/// Loads and checks the model in `dir`.
pub fn load_dir(dir: impl AsRef<Path>) -> Result<Model, ModelError> {
    let dir = dir.as_ref();
    let json = dir.join(JSON_FILE);
    if json.exists() && !dir.join(MODEL_FILE).exists() {
        let bytes = read(&json)?;
        return Model::from_json(&bytes);
    }
    let model = String::from_utf8_lossy(&read(&dir.join(MODEL_FILE))?).into_owned();
    let items_path = dir.join(ITEMS_FILE);
    let items = if items_path.exists() {
        Some(String::from_utf8_lossy(&read(&items_path)?).into_owned())
    } else {
        None
    };
    from_toml(&model, items.as_deref())
}

fn read(path: &Path) -> Result<Vec<u8>, ModelError> {
    std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Builds a model from the text of `model.toml` and, optionally, `items.toml`.
pub fn from_toml(model: &str, items: Option<&str>) -> Result<Model, ModelError> {
    let parse = |text: &str, path: &str| -> Result<toml::Table, ModelError> {
        text.parse::<toml::Table>().map_err(|e| ModelError::Parse {
            path: path.into(),
            message: e.to_string(),
        })
    };
    let mut table = parse(model, MODEL_FILE)?;
    if let Some(items) = items {
        let mut extra = parse(items, ITEMS_FILE)?;
        let new = extra
            .remove("items")
            .unwrap_or(toml::Value::Array(Vec::new()));
        match (table.get_mut("items"), new) {
            (Some(toml::Value::Array(have)), toml::Value::Array(more)) => have.extend(more),
            (None, more) => {
                table.insert("items".into(), more);
            }
            _ => {
                return Err(ModelError::Parse {
                    path: ITEMS_FILE.into(),
                    message: "items must be an array".into(),
                })
            }
        }
        if let Some(key) = extra.keys().next() {
            return Err(ModelError::Parse {
                path: ITEMS_FILE.into(),
                message: format!("unexpected key {key:?}"),
            });
        }
    }
    // Through the typed document, so that what is published and hashed is complete (every
    // field written out) whatever the TOML left to defaults. A structural error falls back to
    // the raw value so that validation lists every problem.
    let raw = serde_json::to_value(&table).map_err(|e| ModelError::Parse {
        path: MODEL_FILE.into(),
        message: e.to_string(),
    })?;
    match serde_json::from_value::<ModelDoc>(raw.clone()) {
        Ok(doc) => Model::from_doc(&doc),
        Err(_) => Model::from_value(raw),
    }
}

/// The bundled `baoan` model, embedded in the binary.
pub fn bundled() -> Model {
    from_toml(BAOAN_MODEL_TOML, Some(BAOAN_ITEMS_TOML)).expect("the bundled baoan model is valid")
}

/// The text of the bundled model's files.
pub const BAOAN_MODEL_TOML: &str = include_str!("../baoan/model.toml");
pub const BAOAN_ITEMS_TOML: &str = include_str!("../baoan/items.toml");

#[cfg(test)]
mod tests;
