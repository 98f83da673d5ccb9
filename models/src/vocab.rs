//! The fixed vocabulary of the contract: subject kinds, categories, grades, approval contexts
//! and decisions. Each word has one spelling on the wire (`as_str`) and a dense index for
//! tables.

use serde::{Deserialize, Serialize};

macro_rules! vocab {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $s)] $var),+
        }

        impl $name {
            /// Every value, in index order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// How many values there are.
            pub const COUNT: usize = $name::ALL.len();

            /// The wire spelling.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$var => $s),+ }
            }

            /// Parses the wire spelling (exact, case-sensitive).
            #[allow(clippy::should_implement_trait)]
            pub fn from_str(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$var),)+ _ => None }
            }

            /// Dense index, `0..COUNT`.
            pub const fn index(self) -> usize {
                self as usize
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocab! {
    /// Who is scored: a legal person (USCC) or a natural person (resident ID).
    Kind { Legal = "legal", Natural = "natural" }
}

vocab! {
    /// The seven categories of the catalogue.
    Category {
        Basic = "basic",
        License = "license",
        Penalty = "penalty",
        Judicial = "judicial",
        Supervision = "supervision",
        Honor = "honor",
        Other = "other",
    }
}

vocab! {
    /// Credit grades, best first.
    Grade { A = "A", B = "B", C = "C", D = "D" }
}

vocab! {
    /// Approval contexts in which a check is made.
    Context {
        AdministrativeLicensing = "administrative_licensing",
        PublicResourceTrading = "public_resource_trading",
        SpecialFund = "special_fund",
        FinancialLoan = "financial_loan",
        PublicEmployment = "public_employment",
    }
}

vocab! {
    /// The decision of a check, weakest first: `Ord` gives strength.
    Decision { Allow = "allow", FastTrack = "fast_track", Review = "review", Restrict = "restrict" }
}

impl Category {
    /// The three letters used in item codes (`L-PEN-001`).
    pub const fn code_abbrev(self) -> &'static str {
        match self {
            Category::Basic => "BAS",
            Category::License => "LIC",
            Category::Penalty => "PEN",
            Category::Judicial => "JUD",
            Category::Supervision => "SUP",
            Category::Honor => "HON",
            Category::Other => "OTH",
        }
    }

    /// Categories whose in-effect records are adverse (keep a subject out of grade A and off `red`).
    pub const ADVERSE: [Category; 3] =
        [Category::Penalty, Category::Judicial, Category::Supervision];
}

impl Kind {
    /// The letter that item codes of this kind start with.
    pub const fn code_prefix(self) -> char {
        match self {
            Kind::Legal => 'L',
            Kind::Natural => 'N',
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for c in Context::ALL {
            assert_eq!(Context::from_str(c.as_str()), Some(*c));
        }
        for (i, c) in Category::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
        }
        assert_eq!(Category::from_str("Penalty"), None);
    }

    #[test]
    fn decisions_order_by_strength() {
        assert!(Decision::Restrict > Decision::Review);
        assert!(Decision::Review > Decision::FastTrack);
        assert!(Decision::FastTrack > Decision::Allow);
    }
}
