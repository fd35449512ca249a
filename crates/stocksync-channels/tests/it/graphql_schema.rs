//! Checks GraphQL documents, variables and answers against an
//! introspection result: a small parser for the subset the connector
//! writes (operations with variables, fields, arguments, nested selections;
//! no fragments or directives), not a GraphQL engine.

use std::collections::HashMap;

use serde_json::Value;

/// A type reference: `Int!`, `[ID!]!`…
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef {
    Named(String),
    List(Box<TypeRef>),
    NonNull(Box<TypeRef>),
}

impl TypeRef {
    fn from_introspection(t: &Value) -> Self {
        match t["kind"].as_str() {
            Some("NON_NULL") => Self::NonNull(Box::new(Self::from_introspection(&t["ofType"]))),
            Some("LIST") => Self::List(Box::new(Self::from_introspection(&t["ofType"]))),
            _ => Self::Named(t["name"].as_str().unwrap_or_default().to_owned()),
        }
    }

    pub fn named(&self) -> &str {
        match self {
            Self::Named(n) => n,
            Self::List(t) | Self::NonNull(t) => t.named(),
        }
    }

    pub fn show(&self) -> String {
        match self {
            Self::Named(n) => n.clone(),
            Self::List(t) => format!("[{}]", t.show()),
            Self::NonNull(t) => format!("{}!", t.show()),
        }
    }

    /// Whether a variable of type `self` may be passed where `arg` is expected.
    fn fits(&self, arg: &TypeRef) -> bool {
        match (self, arg) {
            (Self::NonNull(v), Self::NonNull(a)) => v.fits(a),
            (Self::NonNull(v), a) => v.fits(a),
            (_, Self::NonNull(_)) => false,
            (Self::List(v), Self::List(a)) => v.fits(a),
            (Self::Named(v), Self::Named(a)) => v == a,
            _ => false,
        }
    }
}

pub struct Schema {
    types: HashMap<String, Value>,
    pub query_root: String,
    pub mutation_root: String,
}

impl Schema {
    pub fn load(introspection: &Value) -> Self {
        let s = &introspection["data"]["__schema"];
        let types = s["types"]
            .as_array()
            .expect("introspection has __schema.types")
            .iter()
            .filter_map(|t| Some((t["name"].as_str()?.to_owned(), t.clone())))
            .collect();
        let root = |k: &str| s[k]["name"].as_str().unwrap_or_default().to_owned();
        Self { types, query_root: root("queryType"), mutation_root: root("mutationType") }
    }

    fn ty(&self, name: &str) -> &Value {
        self.types.get(name).unwrap_or_else(|| panic!("type {name} is not in the schema"))
    }

    /// `Type.field`'s type, and its arguments by name.
    pub fn field(&self, on: &str, name: &str) -> Option<(TypeRef, HashMap<String, TypeRef>)> {
        let f = self.ty(on)["fields"].as_array()?.iter().find(|f| f["name"] == name)?;
        let args = f["args"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| Some((a["name"].as_str()?.to_owned(), TypeRef::from_introspection(&a["type"]))))
            .collect();
        Some((TypeRef::from_introspection(&f["type"]), args))
    }

    /// An input object's fields by name.
    pub fn input_fields(&self, on: &str) -> HashMap<String, TypeRef> {
        self.ty(on)["inputFields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| Some((f["name"].as_str()?.to_owned(), TypeRef::from_introspection(&f["type"]))))
            .collect()
    }

    fn kind(&self, name: &str) -> &str {
        self.ty(name)["kind"].as_str().unwrap_or_default()
    }

    fn enum_values(&self, name: &str) -> Vec<&str> {
        self.ty(name)["enumValues"].as_array().into_iter().flatten().filter_map(|v| v["name"].as_str()).collect()
    }

    /// Problems of a JSON `value` given for input type `t`, under `path`.
    pub fn check_input(&self, t: &TypeRef, value: &Value, path: &str, out: &mut Vec<String>) {
        match (t, value) {
            (TypeRef::NonNull(_), Value::Null) => out.push(format!("{path}: null for {}", t.show())),
            (TypeRef::NonNull(inner), v) => self.check_input(inner, v, path, out),
            (_, Value::Null) => {}
            (TypeRef::List(inner), Value::Array(items)) => {
                items.iter().enumerate().for_each(|(i, v)| self.check_input(inner, v, &format!("{path}[{i}]"), out));
            }
            (TypeRef::List(_), _) => out.push(format!("{path}: not a list for {}", t.show())),
            (TypeRef::Named(name), v) => self.check_named_input(name, v, path, out),
        }
    }

    fn check_named_input(&self, name: &str, v: &Value, path: &str, out: &mut Vec<String>) {
        match self.kind(name) {
            "INPUT_OBJECT" => {
                let Value::Object(map) = v else { return out.push(format!("{path}: not an object for {name}")) };
                let fields = self.input_fields(name);
                for (k, fv) in map {
                    match fields.get(k) {
                        Some(ft) => self.check_input(ft, fv, &format!("{path}.{k}"), out),
                        None => out.push(format!("{path}.{k}: {name} has no such input field")),
                    }
                }
                for (k, ft) in &fields {
                    if matches!(ft, TypeRef::NonNull(_)) && !map.contains_key(k) {
                        out.push(format!("{path}.{k}: required by {name}, missing"));
                    }
                }
            }
            "ENUM" if !v.as_str().is_some_and(|s| self.enum_values(name).contains(&s)) => {
                out.push(format!("{path}: {v} is not a {name} value"));
            }
            _ => self.check_scalar(name, v, path, out),
        }
    }

    fn check_scalar(&self, name: &str, v: &Value, path: &str, out: &mut Vec<String>) {
        let ok = match name {
            "Int" => v.is_i64(),
            "Float" => v.is_number(),
            "Boolean" => v.is_boolean(),
            "String" | "ID" | "DateTime" | "URL" | "UnsignedInt64" => v.is_string(),
            _ => true,
        };
        if !ok {
            out.push(format!("{path}: {v} is not a {name}"));
        }
    }

    /// Problems of an answer's `data` for type `on`: unknown fields, nulls
    /// in non-null fields, wrong scalar kinds, unknown enum values.
    pub fn check_output(&self, on: &str, data: &Value, path: &str, out: &mut Vec<String>) {
        let Value::Object(map) = data else { return out.push(format!("{path}: not an object for {on}")) };
        for (k, v) in map {
            match self.field(on, k) {
                Some((t, _)) => self.check_output_value(&t, v, &format!("{path}.{k}"), out),
                None => out.push(format!("{path}.{k}: {on} has no such field")),
            }
        }
    }

    fn check_output_value(&self, t: &TypeRef, v: &Value, path: &str, out: &mut Vec<String>) {
        match (t, v) {
            (TypeRef::NonNull(_), Value::Null) => out.push(format!("{path}: null for {}", t.show())),
            (TypeRef::NonNull(inner), v) => self.check_output_value(inner, v, path, out),
            (_, Value::Null) => {}
            (TypeRef::List(inner), Value::Array(items)) => {
                items
                    .iter()
                    .enumerate()
                    .for_each(|(i, v)| self.check_output_value(inner, v, &format!("{path}[{i}]"), out));
            }
            (TypeRef::List(_), _) => out.push(format!("{path}: not a list for {}", t.show())),
            (TypeRef::Named(name), v) => match self.kind(name) {
                "OBJECT" | "INTERFACE" => self.check_output(name, v, path, out),
                "ENUM" if !v.as_str().is_some_and(|s| self.enum_values(name).contains(&s)) => {
                    out.push(format!("{path}: {v} is not a {name} value"));
                }
                _ => self.check_scalar(name, v, path, out),
            },
        }
    }
}

/// One operation of a document, checked: its variable types by name.
pub struct Checked {
    pub variables: HashMap<String, TypeRef>,
    pub problems: Vec<String>,
}

/// Parses `doc` and checks every field, argument, enum literal and
/// variable use against `schema`.
pub fn check_document(schema: &Schema, doc: &str) -> Checked {
    let mut p = Parser { toks: tokenize(doc), at: 0 };
    let kind = p.next();
    let root = match kind.as_str() {
        "query" => schema.query_root.clone(),
        "mutation" => schema.mutation_root.clone(),
        other => panic!("expected query or mutation, got {other:?}"),
    };
    let _name = p.next();
    let mut variables = HashMap::new();
    if p.eat("(") {
        while !p.eat(")") {
            p.expect("$");
            let name = p.next();
            p.expect(":");
            variables.insert(name, p.type_ref());
            p.eat(",");
        }
    }
    let mut c = Checked { variables, problems: Vec::new() };
    p.selection(schema, &root, &mut c);
    c
}

fn tokenize(doc: &str) -> Vec<String> {
    let mut toks = Vec::new();
    let mut chars = doc.chars().peekable();
    while let Some(&ch) = chars.peek() {
        if ch.is_whitespace() || ch == ',' {
            chars.next();
        } else if ch.is_ascii_alphanumeric() || ch == '_' || ch == '-' {
            let mut t = String::new();
            while let Some(&c) = chars.peek().filter(|c| c.is_ascii_alphanumeric() || **c == '_' || **c == '-') {
                t.push(c);
                chars.next();
            }
            toks.push(t);
        } else if ch == '"' {
            chars.next();
            let s: String = chars.by_ref().take_while(|c| *c != '"').collect();
            toks.push(format!("\"{s}\""));
        } else {
            toks.push(ch.to_string());
            chars.next();
        }
    }
    toks
}

struct Parser {
    toks: Vec<String>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> &str {
        self.toks.get(self.at).map_or("", String::as_str)
    }

    fn next(&mut self) -> String {
        let t = self.peek().to_owned();
        self.at += 1;
        t
    }

    fn eat(&mut self, t: &str) -> bool {
        let hit = self.peek() == t;
        if hit {
            self.at += 1;
        }
        hit
    }

    fn expect(&mut self, t: &str) {
        let got = self.next();
        assert_eq!(got, t, "GraphQL parse: expected {t:?}");
    }

    fn type_ref(&mut self) -> TypeRef {
        let t = if self.eat("[") {
            let inner = self.type_ref();
            self.expect("]");
            TypeRef::List(Box::new(inner))
        } else {
            TypeRef::Named(self.next())
        };
        if self.eat("!") { TypeRef::NonNull(Box::new(t)) } else { t }
    }

    fn selection(&mut self, schema: &Schema, on: &str, c: &mut Checked) {
        self.expect("{");
        while !self.eat("}") {
            let name = self.next();
            let Some((t, args)) = schema.field(on, &name) else {
                c.problems.push(format!("{on}.{name}: no such field"));
                self.skip_field();
                continue;
            };
            if self.eat("(") {
                while !self.eat(")") {
                    let arg = self.next();
                    self.expect(":");
                    let value = self.next();
                    let Some(arg_t) = args.get(&arg) else {
                        c.problems.push(format!("{on}.{name}({arg}:): no such argument"));
                        continue;
                    };
                    self.check_value(schema, &format!("{on}.{name}({arg}:)"), arg_t, &value, c);
                }
            }
            let composite = matches!(schema.kind(t.named()), "OBJECT" | "INTERFACE" | "UNION");
            match (composite, self.peek() == "{") {
                (true, true) => self.selection(schema, t.named(), c),
                (false, false) => {}
                (true, false) => c.problems.push(format!("{on}.{name}: {} needs a selection", t.show())),
                (false, true) => c.problems.push(format!("{on}.{name}: {} is a leaf", t.show())),
            }
        }
    }

    fn check_value(&mut self, schema: &Schema, at: &str, arg_t: &TypeRef, value: &str, c: &mut Checked) {
        if value == "$" {
            let var = self.next();
            match c.variables.get(&var) {
                Some(v) if v.fits(arg_t) => {}
                Some(v) => {
                    c.problems.push(format!("{at}: ${var} is {} but the argument is {}", v.show(), arg_t.show()))
                }
                None => c.problems.push(format!("{at}: ${var} is not declared")),
            }
        } else if schema.kind(arg_t.named()) == "ENUM" && !schema.enum_values(arg_t.named()).contains(&value) {
            c.problems.push(format!("{at}: {value} is not a {} value", arg_t.named()));
        }
    }

    /// Skips an unknown field's arguments and selection, balanced.
    fn skip_field(&mut self) {
        for (open, close) in [("(", ")"), ("{", "}")] {
            if self.peek() != open {
                continue;
            }
            let mut depth = 0;
            while self.at < self.toks.len() {
                let t = self.next();
                depth += i32::from(t == open) - i32::from(t == close);
                if depth == 0 {
                    break;
                }
            }
        }
    }
}
