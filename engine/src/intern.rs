//! Interning of strings that repeat across records (producer names, authorities, legal bases):
//! each distinct string is kept once and records hold a `u32`. Id 0 is "none".

use std::collections::HashMap;
use std::sync::Arc;

/// An append-only table of strings. Ids are dense from 1; 0 means absent.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    ids: HashMap<Arc<str>, u32, ahash::RandomState>,
    strings: Vec<Arc<str>>,
}

impl Interner {
    pub fn new() -> Interner {
        Interner::default()
    }

    /// The id of `s`, adding it if new.
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(id) = self.ids.get(s) {
            return *id;
        }
        let s: Arc<str> = Arc::from(s);
        self.strings.push(s.clone());
        let id = self.strings.len() as u32;
        self.ids.insert(s, id);
        id
    }

    /// The id of `s` if it is known.
    pub fn lookup(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }

    /// The string of an id (`None` for 0 or an unknown id).
    pub fn get(&self, id: u32) -> Option<&str> {
        id.checked_sub(1)
            .and_then(|i| self.strings.get(i as usize))
            .map(|s| &**s)
    }

    /// Every string, in id order (id = index + 1).
    pub fn strings(&self) -> impl Iterator<Item = &str> {
        self.strings.iter().map(|s| &**s)
    }

    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }

    /// Rebuilds a table from its strings in id order (snapshot restore).
    pub fn from_strings(strings: impl IntoIterator<Item = String>) -> Interner {
        let mut t = Interner::new();
        for s in strings {
            let arc: Arc<str> = Arc::from(s.as_str());
            t.strings.push(arc.clone());
            let id = t.strings.len() as u32;
            t.ids.entry(arc).or_insert(id);
        }
        t
    }

    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.strings.iter().map(|s| s.len() + 16).sum::<usize>()
            + self.ids.capacity() * 24
            + self.strings.capacity() * 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_once() {
        let mut t = Interner::new();
        let a = t.intern("Bao'an Market Supervision");
        assert_eq!(t.intern("Bao'an Market Supervision"), a);
        assert_ne!(t.intern("other"), a);
        assert_eq!(t.get(a), Some("Bao'an Market Supervision"));
        assert_eq!(t.get(0), None);
        let back = Interner::from_strings(t.strings().map(String::from).collect::<Vec<_>>());
        assert_eq!(back.lookup("other"), t.lookup("other"));
    }
}
