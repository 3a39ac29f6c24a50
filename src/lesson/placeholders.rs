//! Lesson lines that name a broker by its part rather than its number, because Kafka chooses
//! where leaders go: `{leader T[P]}`, `{follower T[P]}` (an in-sync replica that does not lead),
//! `{controller}` (the KRaft quorum's active controller) and `{not-controller}`. This is their
//! syntax; the session fills them in from the cluster when a line runs.

/// The roles a placeholder can name.
pub const ROLES: [&str; 2] = ["leader", "follower"];

/// The roles that name no partition.
pub const QUORUM_ROLES: [&str; 2] = ["controller", "not-controller"];

/// Each `{ROLE T[P]}` or `{ROLE}` in the line: (its byte range, the role, the partition spec).
pub fn find(line: &str) -> Vec<(std::ops::Range<usize>, &str, &str)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(open) = line[from..].find('{').map(|i| i + from) {
        let Some(close) = line[open..].find('}').map(|i| i + open) else { break };
        let inner = &line[open + 1..close];
        if let Some((role, spec)) = inner.split_once(' ').filter(|(role, _)| ROLES.contains(role)) {
            found.push((open..close + 1, role, spec.trim()));
        } else if QUORUM_ROLES.contains(&inner) {
            found.push((open..close + 1, inner, ""));
        }
        from = close + 1;
    }
    found
}

/// The line as a learner should read it: `broker kill <the leader of ledger[0]>`.
pub fn describe(line: &str) -> String {
    let mut text = line.to_string();
    for (range, role, spec) in find(line).into_iter().rev() {
        let said = match role {
            "leader" => format!("<the leader of {spec}>"),
            "follower" => format!("<a follower of {spec}>"),
            "controller" => "<the active controller>".to_string(),
            _ => "<a node that is not the active controller>".to_string(),
        };
        text.replace_range(range, &said);
    }
    text
}

/// The line with each placeholder replaced by a sample broker id, so that it can be parsed.
pub fn sample(line: &str) -> String {
    let mut text = line.to_string();
    for (range, _, _) in find(line).into_iter().rev() {
        text.replace_range(range, "1");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found_and_described() {
        assert_eq!(describe("broker kill {leader ledger[0]}"), "broker kill <the leader of ledger[0]>");
        assert_eq!(describe("broker kill {follower a[2]} ; produce a '{n}'"), "broker kill <a follower of a[2]> ; produce a '{n}'");
        assert_eq!(describe("produce t '{\"order\": {n}}'"), "produce t '{\"order\": {n}}'");
        assert_eq!(find("x {leader t[1]} {follower u[0]}").len(), 2);
        assert_eq!(sample("broker kill {leader ledger[0]}"), "broker kill 1");
        assert_eq!(describe("broker kill {controller}"), "broker kill <the active controller>");
        assert_eq!(describe("broker kill {not-controller} ; x {leader}"), "broker kill <a node that is not the active controller> ; x {leader}");
    }
}
