//! Subject identifiers (contract §1): USCC (GB 32100-2015) for legal persons and resident ID
//! numbers (GB 11643-1999) for natural persons, parsed, normalised to upper case, packed into
//! a 16-byte [`SubjectKey`] for the subject map, and masked for display.

use std::fmt;

use credence_models::Kind;

/// The USCC alphabet in value order: `0-9 A-H J-N P-R T U W-Y` (no I O S V Z).
const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights 3^(i-1) mod 31 for positions 1..=17.
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
/// Resident ID weights for positions 1..=17.
const RID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Resident ID check characters indexed by the weighted sum mod 11.
const RID_CHECK: &[u8; 11] = b"10X98765432";
/// Top bit of a key: set for natural persons.
const NATURAL_BIT: u128 = 1 << 127;

/// Why an identifier is not valid. Every variant is reported as `invalid_subject_id`; the
/// variant only words the detail, which never repeats the identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("an identifier is 18 characters")]
    Length,
    #[error("a character outside the identifier's alphabet")]
    Alphabet,
    #[error("the check character does not match")]
    Check,
    #[error("the birth date is not a valid date")]
    BirthDate,
}

/// A subject's identity packed in 16 bytes: the kind in the top bit, then the 17 body
/// characters (base 31 for a USCC, decimal for a resident ID). The check character is
/// recomputed when the text is needed. Ordered and hashed as a plain integer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubjectKey(u128);

impl SubjectKey {
    /// Parses and validates an identifier of `kind`; lower case is accepted and normalised.
    pub fn parse(kind: Kind, id: &str) -> Result<SubjectKey, IdError> {
        let b = id.as_bytes();
        if b.len() != 18 {
            return Err(IdError::Length);
        }
        match kind {
            Kind::Legal => parse_uscc(b),
            Kind::Natural => parse_resident(b),
        }
    }

    /// The subject's kind.
    pub fn kind(self) -> Kind {
        if self.0 & NATURAL_BIT != 0 {
            Kind::Natural
        } else {
            Kind::Legal
        }
    }

    /// The packed form (for snapshots).
    pub fn to_bits(self) -> u128 {
        self.0
    }

    /// Rebuilds a key from [`SubjectKey::to_bits`]; `None` if the bits are not a valid key.
    pub fn from_bits(bits: u128) -> Option<SubjectKey> {
        let key = SubjectKey(bits);
        let text = key.text();
        (SubjectKey::parse(key.kind(), text.as_str()).ok() == Some(key)).then_some(key)
    }

    /// The normalised identifier text.
    pub fn text(self) -> IdText {
        let mut out = [0u8; 18];
        let mut body = self.0 & !NATURAL_BIT;
        match self.kind() {
            Kind::Legal => {
                for i in (0..17).rev() {
                    out[i] = USCC_ALPHABET[(body % 31) as usize];
                    body /= 31;
                }
                out[17] = USCC_ALPHABET[uscc_check(&out[..17]) as usize];
            }
            Kind::Natural => {
                for i in (0..17).rev() {
                    out[i] = b'0' + (body % 10) as u8;
                    body /= 10;
                }
                out[17] = resident_check(&out[..17]);
            }
        }
        IdText(out)
    }

    /// The identifier as it may be shown in logs, metrics and errors: a natural person's is
    /// masked (`440306********0590`); a legal person's is public and shown whole.
    pub fn display_safe(self) -> String {
        let text = self.text();
        match self.kind() {
            Kind::Legal => text.as_str().to_owned(),
            Kind::Natural => mask(text.as_str()),
        }
    }
}

impl fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Debug output lands in logs: never a natural person's identifier in clear.
        write!(f, "{}:{}", self.kind(), self.display_safe())
    }
}

/// Masks an identifier: the first 6 and last 4 characters kept, the rest `*`.
pub fn mask(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let mut out = String::with_capacity(chars.len());
    out.extend(&chars[..6]);
    out.extend(std::iter::repeat_n('*', chars.len() - 10));
    out.extend(&chars[chars.len() - 4..]);
    out
}

/// An identifier's text, 18 ASCII bytes, without allocation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IdText([u8; 18]);

impl IdText {
    pub fn as_str(&self) -> &str {
        // Built only from ASCII alphabets.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl fmt::Display for IdText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn uscc_value(c: u8) -> Option<u32> {
    let c = c.to_ascii_uppercase();
    USCC_ALPHABET.iter().position(|a| *a == c).map(|p| p as u32)
}

fn uscc_check(body: &[u8]) -> u32 {
    let sum: u32 = body
        .iter()
        .zip(USCC_WEIGHTS)
        .map(|(c, w)| uscc_value(*c).unwrap_or(0) * w)
        .sum();
    (31 - sum % 31) % 31
}

fn parse_uscc(b: &[u8]) -> Result<SubjectKey, IdError> {
    let mut packed: u128 = 0;
    let mut sum = 0u32;
    for (i, c) in b[..17].iter().enumerate() {
        let v = uscc_value(*c).ok_or(IdError::Alphabet)?;
        sum += v * USCC_WEIGHTS[i];
        packed = packed * 31 + v as u128;
    }
    let check = uscc_value(b[17]).ok_or(IdError::Alphabet)?;
    if check != (31 - sum % 31) % 31 {
        return Err(IdError::Check);
    }
    Ok(SubjectKey(packed))
}

fn resident_check(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .zip(RID_WEIGHTS)
        .map(|(c, w)| (c - b'0') as u32 * w)
        .sum();
    RID_CHECK[(sum % 11) as usize]
}

fn parse_resident(b: &[u8]) -> Result<SubjectKey, IdError> {
    if !b[..17].iter().all(u8::is_ascii_digit) {
        return Err(IdError::Alphabet);
    }
    let last = b[17].to_ascii_uppercase();
    if !(last.is_ascii_digit() || last == b'X') {
        return Err(IdError::Alphabet);
    }
    if last != resident_check(&b[..17]) {
        return Err(IdError::Check);
    }
    let num = |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |a, c| a * 10 + (c - b'0') as u32);
    let (y, m, d) = (num(6..10), num(10..12), num(12..14));
    if !valid_date(y, m, d) {
        return Err(IdError::BirthDate);
    }
    let packed = b[..17]
        .iter()
        .fold(0u128, |a, c| a * 10 + (c - b'0') as u128);
    Ok(SubjectKey(NATURAL_BIT | packed))
}

/// A calendar date from 1800 on (no clock: a birth date is not compared with today).
fn valid_date(y: u32, m: u32, d: u32) -> bool {
    if y < 1800 || !(1..=12).contains(&m) || d == 0 {
        return false;
    }
    let leap = (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= days
}

/// Builds a valid identifier of `kind` from a 17-character body (digits for a resident ID;
/// USCC alphabet for a USCC) by appending its check character. For generators and tests.
pub fn with_check(kind: Kind, body: &str) -> String {
    let b = body.as_bytes();
    let check = match kind {
        Kind::Legal => USCC_ALPHABET[uscc_check(b) as usize],
        Kind::Natural => resident_check(b),
    };
    let mut s = body.to_owned();
    s.push(check as char);
    s
}

/// The USCC alphabet, for generators.
pub fn uscc_alphabet() -> &'static [u8] {
    USCC_ALPHABET
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_identifiers() {
        // The contract's examples.
        let legal = SubjectKey::parse(Kind::Legal, "91440306AY4CL12TH9").unwrap();
        assert_eq!(legal.kind(), Kind::Legal);
        assert_eq!(legal.text().as_str(), "91440306AY4CL12TH9");
        let rid = SubjectKey::parse(Kind::Natural, "440306195606190590");
        assert!(rid.is_ok(), "{rid:?}");
        let k = rid.unwrap();
        assert_eq!(k.kind(), Kind::Natural);
        assert_eq!(k.text().as_str(), "440306195606190590");
        assert_eq!(k.display_safe(), "440306********0590");
        // A real-world USCC (published registration).
        let uscc = "91350100M000100Y43";
        let k = SubjectKey::parse(Kind::Legal, uscc).unwrap();
        assert_eq!(k.text().as_str(), uscc);
        assert_eq!(k.display_safe(), uscc);
        assert_eq!(
            SubjectKey::parse(Kind::Legal, &uscc.to_lowercase()).unwrap(),
            k
        );
    }

    #[test]
    fn rejects() {
        assert_eq!(
            SubjectKey::parse(Kind::Natural, "44030619560619059"),
            Err(IdError::Length)
        );
        assert_eq!(
            SubjectKey::parse(Kind::Natural, "44030619560619059A"),
            Err(IdError::Alphabet)
        );
        assert_eq!(
            SubjectKey::parse(Kind::Natural, "440306195606190591"),
            Err(IdError::Check)
        );
        let bad_date = with_check(Kind::Natural, "44030619560230059");
        assert_eq!(
            SubjectKey::parse(Kind::Natural, &bad_date),
            Err(IdError::BirthDate)
        );
        assert_eq!(
            SubjectKey::parse(Kind::Legal, "91350100M000100YI3"),
            Err(IdError::Alphabet)
        );
        assert_eq!(
            SubjectKey::parse(Kind::Legal, "91350100M000100Y44"),
            Err(IdError::Check)
        );
        // Multi-byte input of 18 bytes must not panic.
        assert!(SubjectKey::parse(Kind::Legal, "无无无无无无").is_err());
    }

    #[test]
    fn lower_case_x_is_normalised() {
        // Find a body whose check char is X.
        let mut n = 0u32;
        loop {
            let body = format!("440306199001011{:02}", n);
            let id = with_check(Kind::Natural, &body);
            if id.ends_with('X') {
                let lower = id.to_lowercase();
                let k = SubjectKey::parse(Kind::Natural, &lower).unwrap();
                assert_eq!(k.text().as_str(), id);
                break;
            }
            n += 1;
        }
    }

    fn uscc_body() -> impl Strategy<Value = String> {
        proptest::collection::vec(0usize..31, 17)
            .prop_map(|v| v.into_iter().map(|i| USCC_ALPHABET[i] as char).collect())
    }

    fn resident_body() -> impl Strategy<Value = String> {
        (
            0u32..1_000_000,
            1800u32..2100,
            1u32..13,
            1u32..29,
            0u32..1000,
        )
            .prop_map(|(r, y, m, d, s)| format!("{r:06}{y:04}{m:02}{d:02}{s:03}"))
    }

    fn mutate(id: &str, pos: usize, with: char) -> Option<String> {
        let mut chars: Vec<char> = id.chars().collect();
        if chars[pos].eq_ignore_ascii_case(&with) {
            return None;
        }
        chars[pos] = with;
        Some(chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn generated_uscc_validates_and_any_change_fails(body in uscc_body(), pos in 0usize..18, c in any::<char>()) {
            let id = with_check(Kind::Legal, &body);
            let k = SubjectKey::parse(Kind::Legal, &id).unwrap();
            prop_assert_eq!(k.text().to_string(), id.clone());
            prop_assert_eq!(SubjectKey::from_bits(k.to_bits()), Some(k));
            if let Some(changed) = mutate(&id, pos, c) {
                prop_assert!(SubjectKey::parse(Kind::Legal, &changed).is_err());
            }
        }

        #[test]
        fn generated_resident_id_validates_and_any_change_fails(body in resident_body(), pos in 0usize..18, c in any::<char>()) {
            let id = with_check(Kind::Natural, &body);
            let k = SubjectKey::parse(Kind::Natural, &id).unwrap();
            prop_assert_eq!(k.text().to_string(), id.clone());
            prop_assert_eq!(k.kind(), Kind::Natural);
            if let Some(changed) = mutate(&id, pos, c) {
                prop_assert!(SubjectKey::parse(Kind::Natural, &changed).is_err());
            }
        }

        #[test]
        fn a_digit_change_in_uscc_alphabet_fails(body in uscc_body(), pos in 0usize..18, v in 0usize..31) {
            let id = with_check(Kind::Legal, &body);
            if let Some(changed) = mutate(&id, pos, USCC_ALPHABET[v] as char) {
                prop_assert!(SubjectKey::parse(Kind::Legal, &changed).is_err());
            }
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,40}") {
            let _ = SubjectKey::parse(Kind::Legal, &s);
            let _ = SubjectKey::parse(Kind::Natural, &s);
        }
    }
}
