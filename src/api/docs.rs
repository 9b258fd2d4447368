//! `GET /api/docs`: the OpenAPI document as a page, rendered on the server from the document
//! itself, so it works offline and under the site's strict CSP (no script, no CDN).

use askama::Template;
use serde_json::Value;

/// Text with `code` spans, as the document's descriptions write them (`like this`).
pub struct Text(Vec<(bool, String)>);

impl Text {
    fn new(s: &str) -> Self {
        let parts = s
            .split('`')
            .enumerate()
            .filter(|(_, part)| !part.is_empty())
            .map(|(i, part)| (i % 2 == 1, part.to_owned()))
            .collect();
        Self(parts)
    }

    fn of(v: &Value) -> Self {
        Self::new(v.as_str().unwrap_or_default())
    }

    pub fn segments(&self) -> &[(bool, String)] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A schema in words: its type, and the component it names (for a link), if any.
pub struct Kind {
    pub text: String,
    pub link: Option<String>,
}

impl Kind {
    fn of(schema: &Value) -> Self {
        let link = named(schema).map(str::to_owned);
        Self {
            text: describe(schema),
            link,
        }
    }
}

/// The component a schema refers to, also through `T or null`.
fn named(schema: &Value) -> Option<&str> {
    if let Some(r) = schema["$ref"].as_str() {
        return r.rsplit('/').next();
    }
    if schema["items"].is_object() {
        return named(&schema["items"]);
    }
    let alternatives = schema["oneOf"].as_array().or(schema["anyOf"].as_array())?;
    alternatives.iter().find_map(|s| named(s))
}

fn describe(schema: &Value) -> String {
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        return name.to_owned();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(all) = schema[key].as_array() {
            return all.iter().map(describe).collect::<Vec<_>>().join(" or ");
        }
    }
    if let Some(all) = schema["allOf"].as_array() {
        return all.iter().map(describe).collect::<Vec<_>>().join(" and ");
    }
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        return format!("one of {}", values.join(", "));
    }
    let one = |t: &str| match t {
        "array" => format!("array of {}", describe(&schema["items"])),
        "object" if schema["properties"].is_object() => "object (below)".to_owned(),
        "null" => "null".to_owned(),
        t => match schema["format"].as_str() {
            Some(f) => format!("{t} ({f})"),
            None => t.to_owned(),
        },
    };
    match &schema["type"] {
        Value::String(t) => one(t),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(one)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any".to_owned(),
    }
}

pub struct Field {
    pub name: String,
    pub kind: Kind,
    pub required: bool,
    pub text: Text,
}

fn fields(schema: &Value) -> Vec<Field> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        out.extend(fields(part));
    }
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        out.push(Field {
            name: name.clone(),
            kind: Kind::of(property),
            required: required.contains(&name.as_str()),
            text: Text::of(&property["description"]),
        });
    }
    out
}

pub struct Param {
    pub name: String,
    pub place: String,
    pub kind: Kind,
    pub required: bool,
    pub text: Text,
}

pub struct Header {
    pub name: String,
    pub text: Text,
}

pub struct Answer {
    pub status: String,
    pub text: Text,
    pub media: Vec<(String, Kind)>,
    pub headers: Vec<Header>,
}

pub struct Operation {
    pub anchor: String,
    pub method: String,
    pub path: String,
    pub summary: Text,
    pub text: Text,
    pub bearer: bool,
    pub params: Vec<Param>,
    pub body: Option<(String, Kind)>,
    pub answers: Vec<Answer>,
}

pub struct Group {
    pub name: String,
    pub text: Text,
    pub operations: Vec<Operation>,
}

pub struct Component {
    pub name: String,
    pub text: Text,
    pub kind: String,
    pub fields: Vec<Field>,
}

fn first_media(content: &Value) -> Option<(String, Kind)> {
    let (media, body) = content.as_object()?.iter().next()?;
    Some((media.clone(), Kind::of(&body["schema"])))
}

fn operation(path: &str, method: &str, op: &Value) -> Operation {
    let params = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| Param {
            name: p["name"].as_str().unwrap_or_default().to_owned(),
            place: p["in"].as_str().unwrap_or_default().to_owned(),
            kind: Kind::of(&p["schema"]),
            required: p["required"] == true,
            text: Text::of(&p["description"]),
        })
        .collect();
    let answers = op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, r)| Answer {
            status: status.clone(),
            text: Text::of(&r["description"]),
            media: r["content"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(m, c)| (m.clone(), Kind::of(&c["schema"])))
                .collect(),
            headers: r["headers"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, h)| Header {
                    name: name.clone(),
                    text: Text::of(&h["description"]),
                })
                .collect(),
        })
        .collect();
    Operation {
        anchor: format!("{method}-{path}")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect(),
        method: method.to_uppercase(),
        path: path.to_owned(),
        summary: Text::of(&op["summary"]),
        text: Text::of(&op["description"]),
        bearer: op.get("security").is_some(),
        params,
        body: first_media(&op["requestBody"]["content"]),
        answers,
    }
}

#[derive(Template)]
#[template(path = "api/docs.html")]
struct DocsPage {
    title: String,
    version: String,
    intro: Vec<Text>,
    groups: Vec<Group>,
    components: Vec<Component>,
}

const METHODS: [&str; 8] = [
    "get", "head", "post", "put", "patch", "delete", "options", "trace",
];

pub fn render(doc: &Value) -> Result<String, askama::Error> {
    let mut groups: Vec<Group> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| Group {
            name: t["name"].as_str().unwrap_or_default().to_owned(),
            text: Text::of(&t["description"]),
            operations: Vec::new(),
        })
        .collect();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            let op = &item[method];
            if op.is_null() {
                continue;
            }
            let tag = op["tags"][0].as_str().unwrap_or("other");
            let index = match groups.iter().position(|g| g.name == tag) {
                Some(i) => i,
                None => {
                    groups.push(Group {
                        name: tag.to_owned(),
                        text: Text::new(""),
                        operations: Vec::new(),
                    });
                    groups.len() - 1
                }
            };
            groups[index].operations.push(operation(path, method, op));
        }
    }
    groups.retain(|g| !g.operations.is_empty());
    let components = doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| Component {
            name: name.clone(),
            text: Text::of(&schema["description"]),
            kind: describe(schema),
            fields: fields(schema),
        })
        .collect();
    let info = &doc["info"];
    DocsPage {
        title: info["title"].as_str().unwrap_or("API").to_owned(),
        version: info["version"].as_str().unwrap_or_default().to_owned(),
        intro: info["description"]
            .as_str()
            .unwrap_or_default()
            .split("\n\n")
            .map(Text::new)
            .collect(),
        groups,
        components,
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticks_become_code_spans() {
        let t = Text::new("a `b` c");
        assert_eq!(
            t.segments(),
            [
                (false, "a ".to_owned()),
                (true, "b".to_owned()),
                (false, " c".to_owned())
            ]
        );
    }

    #[test]
    fn schemas_read_as_words() {
        let nullable = serde_json::json!({"type": ["string", "null"], "format": "date-time"});
        assert_eq!(describe(&nullable), "string (date-time) or null");
        let list =
            serde_json::json!({"type": "array", "items": {"$ref": "#/components/schemas/User"}});
        assert_eq!(describe(&list), "array of User");
    }
}
