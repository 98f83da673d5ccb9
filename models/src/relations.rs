//! What every model must keep, beyond being well formed: the canonical items of contract §2
//! with their meaning, and §2's relations between records, grades, lists and measures.

use crate::model::{Item, Model};
use crate::vocab::{Category, Context, Decision, Grade, Kind};
use crate::Problem;

/// The sign an item's points must have.
#[derive(Clone, Copy)]
enum Sign {
    Zero,
    Positive,
    Negative,
}

/// How long an item's effect must last.
#[derive(Clone, Copy)]
enum Period {
    /// Until revoked: no `effect_days`.
    Open,
    Days(u32),
    /// Any.
    Any,
}

struct Canonical {
    code: &'static str,
    kind: Kind,
    category: Category,
    sign: Sign,
    period: Period,
    lists: &'static [&'static str],
    restricts: &'static [Context],
}

const FOUR: &[Context] = &[
    Context::AdministrativeLicensing,
    Context::PublicResourceTrading,
    Context::SpecialFund,
    Context::FinancialLoan,
];

const fn c(
    code: &'static str,
    kind: Kind,
    category: Category,
    sign: Sign,
    period: Period,
    lists: &'static [&'static str],
    restricts: &'static [Context],
) -> Canonical {
    Canonical {
        code,
        kind,
        category,
        sign,
        period,
        lists,
        restricts,
    }
}

use Category as Cat;
use Kind::{Legal, Natural};
use Period::{Any, Days, Open};
use Sign::{Negative as Neg, Positive as Pos, Zero};

/// Contract §2's canonical items.
const CANONICAL: &[Canonical] = &[
    c("L-BAS-001", Legal, Cat::Basic, Zero, Open, &[], &[]),
    c("L-LIC-001", Legal, Cat::License, Pos, Any, &[], &[]),
    c("L-PEN-001", Legal, Cat::Penalty, Neg, Days(365), &[], &[]),
    c("L-PEN-002", Legal, Cat::Penalty, Neg, Days(1095), &[], &[]),
    c(
        "L-JUD-001",
        Legal,
        Cat::Judicial,
        Neg,
        Open,
        &["black"],
        &[],
    ),
    c(
        "L-SUP-001",
        Legal,
        Cat::Supervision,
        Neg,
        Days(1095),
        &["black"],
        FOUR,
    ),
    c("L-SUP-002", Legal, Cat::Supervision, Neg, Open, &[], &[]),
    c(
        "L-HON-001",
        Legal,
        Cat::Honor,
        Pos,
        Days(365),
        &["red"],
        &[],
    ),
    c("L-OTH-001", Legal, Cat::Other, Neg, Days(365), &[], &[]),
    c("N-BAS-001", Natural, Cat::Basic, Zero, Open, &[], &[]),
    c("N-PEN-001", Natural, Cat::Penalty, Neg, Days(365), &[], &[]),
    c(
        "N-JUD-001",
        Natural,
        Cat::Judicial,
        Neg,
        Open,
        &["black"],
        &[],
    ),
    c(
        "N-SUP-001",
        Natural,
        Cat::Supervision,
        Neg,
        Days(1095),
        &[],
        &[Context::PublicEmployment],
    ),
    c("N-HON-001", Natural, Cat::Honor, Pos, Any, &[], &[]),
    c(
        "N-HON-002",
        Natural,
        Cat::Honor,
        Pos,
        Days(730),
        &["red"],
        &[],
    ),
    c("N-OTH-001", Natural, Cat::Other, Neg, Days(365), &[], &[]),
];

/// Adds a problem for every canonical item or relation the model breaks.
pub(crate) fn check(m: &Model, problems: &mut Vec<Problem>) {
    check_canonical(m, problems);
    check_scores(m, problems);
    check_measures(m, problems);
}

fn check_canonical(m: &Model, problems: &mut Vec<Problem>) {
    for want in CANONICAL {
        let path = format!("items.{}", want.code);
        let Some(id) = m.item_id(want.code) else {
            problems.push(Problem::new(path, "canonical item missing (contract §2)"));
            continue;
        };
        let it = m.item(id);
        let mut fail =
            |what: String| problems.push(Problem::new(&path, format!("canonical item: {what}")));
        if it.kind != want.kind || it.category != want.category {
            fail(format!("must be {} / {}", want.kind, want.category));
        }
        let points = if want.code == "N-HON-001" {
            match it.per_unit {
                Some(pu) => pu.points,
                None => {
                    fail("volunteer hours are per_unit (value = hours), capped".into());
                    1
                }
            }
        } else {
            it.points
        };
        match want.sign {
            Sign::Zero if points != 0 => fail("must carry 0 points".into()),
            Sign::Positive if points <= 0 => fail("must carry positive points".into()),
            Sign::Negative if points >= 0 => fail("must carry negative points".into()),
            _ => {}
        }
        match want.period {
            Period::Open if it.effect_days.is_some() => {
                fail("must last until revoked (no effect_days)".into())
            }
            Period::Days(d) if it.effect_days != Some(d) => fail(format!("must last {d} days")),
            _ => {}
        }
        for l in want.lists {
            let on = m.list_id(l).is_some_and(|id| it.lists & (1 << id) != 0);
            if !on {
                fail(format!("must trigger list {l:?}"));
            }
        }
        for ctx in want.restricts {
            if !it.restricts(*ctx) {
                fail(format!("must restrict {ctx}"));
            }
        }
    }
    // Meaning of degree: serious worse than general, arrears small.
    if let (Some(g), Some(s)) = (m.item_id("L-PEN-001"), m.item_id("L-PEN-002")) {
        if m.item(s).points >= m.item(g).points {
            problems.push(Problem::new(
                "items.L-PEN-002",
                "a serious penalty must weigh more than L-PEN-001",
            ));
        }
    }
    for (arrears, penalty) in [("L-OTH-001", "L-PEN-001"), ("N-OTH-001", "N-PEN-001")] {
        if let (Some(a), Some(p)) = (m.item_id(arrears), m.item_id(penalty)) {
            if m.item(a).points <= m.item(p).points {
                problems.push(Problem::new(
                    format!("items.{arrears}"),
                    format!("arrears are a small negative: lighter than {penalty}"),
                ));
            }
        }
    }
}

fn sums_with(item: Option<&Item>, extra: &[i64; Category::COUNT]) -> [i64; Category::COUNT] {
    let mut sums = *extra;
    if let Some(it) = item {
        sums[it.category.index()] += it.points;
    }
    sums
}

fn check_scores(m: &Model, problems: &mut Vec<Problem>) {
    let s = &m.scoring;
    let zero = [0i64; Category::COUNT];
    if s.grade(s.score(&zero)) != Grade::B {
        problems.push(Problem::new(
            "scoring",
            "relation broken: a subject with no records (base score) must be grade B",
        ));
    }
    let red = m.list_id("red");
    let black = m.list_id("black");
    if let Some(red) = red {
        let list = &m.lists[red as usize];
        if list.min_grade != Some(Grade::A) {
            problems.push(Problem::new(
                "lists.red",
                "relation broken: red needs grade A (min_grade = \"A\")",
            ));
        }
        for cat in Category::ADVERSE {
            if list.exclude_categories & (1 << cat.index()) == 0 {
                problems.push(Problem::new(
                    "lists.red",
                    format!("relation broken: red needs no {cat} record in effect"),
                ));
            }
        }
        for kind in Kind::ALL {
            let qualifying: Vec<&Item> = m
                .items
                .iter()
                .filter(|it| it.kind == *kind && !it.retired && it.lists & (1 << red) != 0)
                .collect();
            if qualifying.is_empty() {
                problems.push(Problem::new(
                    "lists.red",
                    format!("no qualifying honour for {kind} persons"),
                ));
            }
            for it in qualifying {
                if it.category != Category::Honor {
                    problems.push(Problem::new(
                        format!("items.{}", it.code),
                        "only an honour qualifies for red",
                    ));
                } else if s.grade(s.score(&sums_with(Some(it), &zero))) != Grade::A {
                    problems.push(Problem::new(
                        format!("items.{}", it.code),
                        "relation broken: one qualifying honour on a clean record must lift it to grade A",
                    ));
                }
            }
        }
    }
    if let Some(black) = black {
        if m.lists[black as usize].min_grade.is_some()
            || m.lists[black as usize].exclude_categories != 0
        {
            problems.push(Problem::new(
                "lists.black",
                "black is set by its items alone",
            ));
        }
    }
    // The best record a subject can have, with every positive category at its cap: one adverse
    // record must still take it out of grade A.
    let mut best = [0i64; Category::COUNT];
    for c in Category::ALL {
        if !Category::ADVERSE.contains(c) {
            best[c.index()] = s.category_bounds[c.index()].1;
        }
    }
    for it in &m.items {
        if !Category::ADVERSE.contains(&it.category) || it.retired {
            continue;
        }
        let path = format!("items.{}", it.code);
        if it.per_unit.is_some() {
            problems.push(Problem::new(&path, "relation broken: an adverse item cannot be per_unit (a small value would keep grade A)"));
            continue;
        }
        if s.grade(s.score(&sums_with(Some(it), &best))) == Grade::A {
            problems.push(Problem::new(
                &path,
                "relation broken: any in-effect penalty, judicial or supervision record must take a subject out of grade A",
            ));
        }
    }
}

fn check_measures(m: &Model, problems: &mut Vec<Problem>) {
    let want_grade = |ctx: Context, g: Grade| match (g, ctx) {
        (Grade::D, _) => Decision::Review,
        (
            Grade::C,
            Context::PublicResourceTrading | Context::SpecialFund | Context::FinancialLoan,
        ) => Decision::Review,
        _ => Decision::Allow,
    };
    for ctx in Context::ALL {
        let me = m.measure(*ctx);
        let path = format!("measures.{ctx}");
        if let Some(b) = m.list_id("black") {
            if me.lists[b as usize] != Decision::Restrict {
                problems.push(Problem::new(
                    &path,
                    "relation broken: black must restrict in every context",
                ));
            }
        }
        if let Some(r) = m.list_id("red") {
            let want = match ctx {
                Context::AdministrativeLicensing | Context::SpecialFund => Decision::FastTrack,
                _ => Decision::Allow,
            };
            if me.lists[r as usize] != want {
                problems.push(Problem::new(
                    &path,
                    format!("relation broken: red must lead to {want} here"),
                ));
            }
        }
        for g in Grade::ALL {
            let want = want_grade(*ctx, *g);
            if me.grades[g.index()] != want {
                problems.push(Problem::new(
                    &path,
                    format!("relation broken: grade {g} must lead to {want} here"),
                ));
            }
        }
        if me.item_restriction != Decision::Restrict {
            problems.push(Problem::new(
                &path,
                "relation broken: an item's restriction must restrict",
            ));
        }
    }
}
