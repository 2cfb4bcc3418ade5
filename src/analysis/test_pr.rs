//! The text of an incident's regression-test PR: a title, and a body that links the Sentry
//! issue, quotes the stack excerpt, names the suspected change with its evidence, and says how the
//! test was derived. Pure; every string in it came through `sanitize` (and secret masking) when
//! the event was read, and code excerpts are fenced so that nothing in them can end the fence.

use crate::domain::{Incident, IncidentEvent, Suspect};
use std::fmt::Write;

/// What the body is made from.
pub struct PrText<'a> {
    pub incident: &'a Incident,
    pub event: Option<&'a IncidentEvent>,
    /// Best first; empty when none was found.
    pub suspects: &'a [Suspect],
    /// The test file's path in the repository, and the app's function it calls.
    pub path: &'a str,
    pub function: &'a str,
    /// One paragraph: how the test was derived.
    pub derivation: &'a str,
    /// The test calls the crashing code with the event's values and expects the exception.
    pub reproduces: bool,
}

/// "Regression test for CHECKOUT-4C: ZeroDivisionError in split_refund".
pub fn title(t: &PrText<'_>) -> String {
    let kind = t
        .event
        .and_then(|e| e.raised())
        .map(|x| x.kind.clone())
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| first_words(&t.incident.title, 6));
    let mut out = format!("Regression test for {}: {kind}", t.incident.short_id);
    if !t.function.is_empty() {
        let _ = write!(out, " in {}", t.function);
    }
    crate::sanitize::truncate(&out, 120)
}

fn first_words(s: &str, n: usize) -> String {
    s.split_whitespace().take(n).collect::<Vec<_>>().join(" ")
}

/// A fence longer than any run of backticks in `text`.
fn fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// Inline code that nothing inside can end: delimited by one backtick more than its longest run.
fn code(text: &str) -> String {
    let one_line = text.replace(['\n', '\r'], " ");
    let longest = fence(&one_line).len().saturating_sub(1);
    let ticks = "`".repeat(if one_line.contains('`') {
        longest.max(2)
    } else {
        1
    });
    format!("{ticks} {one_line} {ticks}")
}

fn utc_minute(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(f)
        .unwrap_or_default()
}

/// The PR body (GitHub Markdown).
pub fn body(t: &PrText<'_>) -> String {
    let inc = t.incident;
    let mut out = String::new();
    let exception = t
        .event
        .and_then(|e| e.raised())
        .map(|x| {
            if x.value.is_empty() {
                x.kind.clone()
            } else {
                format!("{}: {}", x.kind, x.value)
            }
        })
        .unwrap_or_else(|| inc.title.clone());
    let link = t
        .event
        .map(|e| e.url.as_str())
        .filter(|u| !u.is_empty())
        .unwrap_or(&inc.url);
    let _ = writeln!(
        out,
        "Adds a regression test for Sentry issue [{}]({}) — {} ({} events, {} users{}).",
        inc.short_id,
        link,
        code(&exception),
        inc.count,
        inc.user_count,
        inc.first_seen
            .map(|t| format!(", first seen {}", utc_minute(t)))
            .unwrap_or_default()
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "The test is in `{}` and calls `{}`.",
        t.path, t.function
    );
    if t.reproduces {
        let _ = writeln!(
            out,
            "It calls the crashing code with the values recorded on the event and expects the \
             incident's exception. It is marked as an expected failure (strict): while the bug is \
             there it is reported as an expected failure, and once the bug is fixed it fails — remove \
             the marker in the fix's PR so the test guards the fix from then on."
        );
    } else {
        let _ = writeln!(
            out,
            "The event does not carry the crash path's arguments, so this is a skeleton that \
             imports the function and is skipped with the reason: fill in the call that \
             reproduces the crash, then remove the skip."
        );
    }

    if let Some(ev) = t.event {
        let frames: Vec<_> = ev.in_app_frames().collect();
        if !frames.is_empty() {
            let mut stack = String::new();
            let crash = ev.crash_frame();
            for f in frames.iter().rev().take(8).rev() {
                let is_crash = crash.is_some_and(|c| std::ptr::eq(c, *f));
                let _ = writeln!(
                    stack,
                    "{}:{} in {}{}",
                    f.path().unwrap_or("?"),
                    f.line.map(|l| l.to_string()).unwrap_or_else(|| "?".into()),
                    f.function.as_deref().unwrap_or("?"),
                    if is_crash { "   <- crash" } else { "" }
                );
                if is_crash
                    && let Some(line) = f.line
                    && let Some((_, text)) = f.context.iter().find(|(n, _)| *n == line)
                {
                    let _ = writeln!(stack, "    {}", text.trim());
                }
            }
            if let Some(x) = ev.raised() {
                let _ = writeln!(stack, "{}: {}", x.kind, x.value);
            }
            let ticks = fence(&stack);
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "### Stack (in-app frames{})",
                if frames.len() > 8 {
                    format!(", the last 8 of {}", frames.len())
                } else {
                    String::new()
                }
            );
            let _ = writeln!(out, "{ticks}text\n{}{ticks}", stack);
        }
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "### Suspected change");
    match t.suspects.first() {
        None => {
            let _ = writeln!(
                out,
                "None found: no deploy, release or change in the looked-at window fits the \
                 incident's first sighting and crash frames."
            );
        }
        Some(best) => {
            let _ = writeln!(
                out,
                "{}{}{}",
                best.title,
                best.sha
                    .as_deref()
                    .map(|s| format!(" (sha {})", s.get(..7).unwrap_or(s)))
                    .unwrap_or_default(),
                best.url
                    .as_deref()
                    .map(|u| format!(" — {u}"))
                    .unwrap_or_default()
            );
            for e in &best.evidence {
                let _ = writeln!(out, "- {e}");
            }
            if t.suspects.len() > 1 {
                let others: Vec<&str> = t.suspects[1..]
                    .iter()
                    .take(3)
                    .map(|s| s.title.as_str())
                    .collect();
                let _ = writeln!(
                    out,
                    "\nOther candidates, less likely: {}.",
                    others.join("; ")
                );
            }
        }
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "### How the test was derived");
    let _ = writeln!(out, "{}", t.derivation.trim());
    let _ = writeln!(out);
    let _ = write!(
        out,
        "<sub>Drafted by flightdeck from the incident's latest event{} and reviewed by the \
         operator before this PR was opened.</sub>",
        t.event
            .map(|e| format!(" ({})", e.event_id))
            .filter(|s| s != " ()")
            .unwrap_or_default()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ExceptionInfo, Frame, SuspectKind};

    fn incident() -> Incident {
        Incident {
            project: "checkout".into(),
            id: "6120007".into(),
            short_id: "CHECKOUT-4C".into(),
            title: "ZeroDivisionError: integer division or modulo by zero".into(),
            culprit: "worker.refunds in split_refund".into(),
            level: "error".into(),
            status: "unresolved".into(),
            count: 40,
            user_count: 12,
            first_seen: None,
            last_seen: None,
            url: "https://sentry.example/issues/6120007/".into(),
            stats: Vec::new(),
        }
    }

    fn event() -> IncidentEvent {
        let frame = |file: &str, func: &str, line: u32, ctx: &str| Frame {
            filename: Some(file.into()),
            function: Some(func.into()),
            line: Some(line),
            in_app: true,
            context: vec![(line, ctx.into())],
            ..Frame::default()
        };
        IncidentEvent {
            event_id: "abc".into(),
            short_id: "CHECKOUT-4C".into(),
            exceptions: vec![ExceptionInfo {
                kind: "ZeroDivisionError".into(),
                value: "integer division or modulo by zero".into(),
                frames: vec![
                    frame("worker/refunds.py", "refund_order", 14, "x"),
                    frame(
                        "worker/refunds.py",
                        "split_refund",
                        6,
                        "    share = total_cents // parts ```",
                    ),
                ],
                ..ExceptionInfo::default()
            }],
            ..IncidentEvent::default()
        }
    }

    #[test]
    fn the_body_links_quotes_names_and_explains() {
        let inc = incident();
        let ev = event();
        let suspect = Suspect {
            kind: SuspectKind::PullRequest,
            title: "PR #416 Refund only open shipments".into(),
            repo: Some("acme/checkout".into()),
            sha: Some("0123456789".into()),
            pr: Some(416),
            url: None,
            score: 1.0,
            evidence: vec![
                "changed `worker/refunds.py`, which holds 2 of the 3 in-app frames".into(),
            ],
        };
        let t = PrText {
            incident: &inc,
            event: Some(&ev),
            suspects: std::slice::from_ref(&suspect),
            path: "worker/tests/test_regression_checkout_4c.py",
            function: "refund_order",
            derivation: "Calls refund_order with the event's `order`.",
            reproduces: true,
        };
        assert_eq!(
            title(&t),
            "Regression test for CHECKOUT-4C: ZeroDivisionError in refund_order"
        );
        let b = body(&t);
        assert!(
            b.contains("[CHECKOUT-4C](https://sentry.example/issues/6120007/)"),
            "{b}"
        );
        assert!(
            b.contains("worker/refunds.py:6 in split_refund   <- crash"),
            "{b}"
        );
        assert!(
            b.contains("PR #416 Refund only open shipments (sha 0123456)"),
            "{b}"
        );
        assert!(b.contains("- changed `worker/refunds.py`"), "{b}");
        assert!(
            b.contains("Calls refund_order with the event's `order`."),
            "{b}"
        );
        // The context line holds three backticks: the fence is longer, so it cannot end early.
        assert!(b.contains("````text\n"), "{b}");
        let none = PrText {
            suspects: &[],
            reproduces: false,
            ..t
        };
        let b = body(&none);
        assert!(b.contains("None found"), "{b}");
        assert!(b.contains("skeleton"), "{b}");
    }
}
