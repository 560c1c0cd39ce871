//! The entries of a `redis-cli --no-raw CLUSTER GETSLOTMIGRATIONS` capture, as the refresh
//! hands them over: one list of (field, value) pairs per job.

pub fn entries(text: &str) -> Vec<Vec<(String, String)>> {
    let mut entries: Vec<Vec<String>> = Vec::new();
    for line in text.lines() {
        let mut rest = line.trim();
        let mut indices = 0;
        while let Some((n, tail)) = rest.split_once(')') {
            if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
                break;
            }
            indices += 1;
            rest = tail.trim_start();
        }
        if indices == 0 {
            continue;
        }
        if indices == 2 || entries.is_empty() {
            entries.push(Vec::new());
        }
        let value = rest.strip_prefix("(integer) ").map_or_else(
            || rest.trim_matches('"').replace("\\\"", "\""),
            str::to_owned,
        );
        if let Some(e) = entries.last_mut() {
            e.push(value);
        }
    }
    entries
        .into_iter()
        .map(|e| {
            e.chunks(2)
                .filter_map(|p| Some((p.first()?.clone(), p.get(1)?.clone())))
                .collect()
        })
        .collect()
}
