//! The README's configuration table agrees with the code: every variable the code reads is in
//! it, every variable in it is read, and each simple default in it is the one the code applies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use authd::config::Config;

/// Read by a library rather than by our code, so the name appears nowhere in `src/`.
const READ_BY_LIBRARIES: &[(&str, &str)] = &[("RUST_LOG", "env_logger")];

/// The rows of the table under `## Configuration`: (variables, their defaults when the cell is
/// nothing but backquoted values).
fn readme_table() -> Vec<(Vec<String>, Option<Vec<String>>)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let section = readme
        .split("\n## ")
        .find(|s| s.starts_with("Configuration"))
        .expect("a `## Configuration` section in README.md");
    let rows: Vec<&str> = section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2) // the header and the |---| line
        .collect();
    assert!(!rows.is_empty(), "no table under ## Configuration");
    rows.iter()
        .map(|row| {
            let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
            assert!(cells.len() >= 3, "a row of three cells: {row}");
            let names = quoted(cells[0]);
            assert!(
                !names.is_empty() && names.iter().all(|n| is_variable(n)),
                "the first cell names variables in backquotes: {row}"
            );
            (names, simple_values(cells[1]))
        })
        .collect()
}

/// The `backquoted` parts of a cell.
fn quoted(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// `a` or `a` / `b`: values and nothing else; `None` for prose ("none", "32 per core", ...).
fn simple_values(cell: &str) -> Option<Vec<String>> {
    let values = quoted(cell);
    let rebuilt = values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(" / ");
    (!values.is_empty() && rebuilt == cell).then_some(values)
}

fn is_variable(name: &str) -> bool {
    name.len() > 2
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Every `"AUTHD_..."` and `"DATABASE_URL"` string literal in a source text.
fn variables_in(source: &str) -> BTreeSet<String> {
    source
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| (s.starts_with("AUTHD_") || *s == "DATABASE_URL") && is_variable(s))
        .map(str::to_owned)
        .collect()
}

fn sources(dir: &Path, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let root = Path::new(env!("CARGO_MANIFEST_DIR"));
            let name = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            out.insert(name, std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The variables the code reads, each with the files that name it.
fn variables_in_code() -> BTreeMap<String, Vec<String>> {
    let mut files = BTreeMap::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, text) in &files {
        for name in variables_in(text) {
            found.entry(name).or_default().push(path.clone());
        }
    }
    found
}

#[test]
fn the_readme_configuration_table_lists_exactly_the_variables_the_code_reads() {
    let table: BTreeSet<String> = readme_table().into_iter().flat_map(|r| r.0).collect();
    let code = variables_in_code();
    assert!(code.contains_key("AUTHD_BIND") && code.contains_key("DATABASE_URL"));

    let missing: Vec<_> = code.keys().filter(|v| !table.contains(*v)).collect();
    assert!(
        missing.is_empty(),
        "read by the code but not in README.md's configuration table: {missing:?} (in {:?})",
        missing.iter().map(|v| &code[*v]).collect::<Vec<_>>()
    );
    let mut files = BTreeMap::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let all_source: String = files.into_values().collect();
    let unread: Vec<_> = table
        .iter()
        .filter(|v| !code.contains_key(*v))
        .filter(|v| {
            !READ_BY_LIBRARIES
                .iter()
                .any(|(name, library)| name == v && all_source.contains(library))
        })
        .collect();
    assert!(
        unread.is_empty(),
        "in README.md's configuration table but read nowhere in src/: {unread:?}"
    );
}

#[test]
fn the_readme_configuration_defaults_are_the_ones_the_code_applies() {
    let base = [("DATABASE_URL", "postgres://localhost/readme")];
    let config = |extra: Option<(&str, &str)>| {
        let lookup = |k: &str| {
            base.iter()
                .chain(extra.iter())
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        };
        Config::from_lookup(lookup).map(|c| format!("{c:?}"))
    };
    let defaults = config(None).expect("the defaults are a valid configuration");
    let mut checked = 0;
    for (names, values) in readme_table() {
        let Some(values) = values else { continue };
        assert_eq!(
            names.len(),
            values.len(),
            "one default per variable in the row of {names:?}"
        );
        for (name, value) in names.iter().zip(&values) {
            if name == "DATABASE_URL" || READ_BY_LIBRARIES.iter().any(|(n, _)| n == name) {
                continue;
            }
            let set = config(Some((name, value)))
                .unwrap_or_else(|e| panic!("README's default {name}={value} is refused: {e}"));
            assert_eq!(
                set, defaults,
                "README says {name} defaults to {value:?}, but setting it to that changes the \
                 configuration"
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} defaults were checked");
}
