//! The page templates, embedded at compile time and parsed once. Output is
//! XHTML-style (void elements closed, attributes quoted) so that tests can
//! check every page with an XML parser; values are HTML-escaped.

use std::sync::LazyLock;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("macros.html", include_str!("templates/macros.html")),
    ("error.html", include_str!("templates/error.html")),
    ("login.html", include_str!("templates/login.html")),
    ("dashboard.html", include_str!("templates/dashboard.html")),
    ("orders.html", include_str!("templates/orders.html")),
    ("order.html", include_str!("templates/order.html")),
    ("inventory.html", include_str!("templates/inventory.html")),
    ("stock.html", include_str!("templates/stock.html")),
    ("items.html", include_str!("templates/items.html")),
    ("item.html", include_str!("templates/item.html")),
    ("fcs.html", include_str!("templates/fcs.html")),
    ("integrations.html", include_str!("templates/integrations.html")),
    ("integration.html", include_str!("templates/integration.html")),
    ("uploads.html", include_str!("templates/uploads.html")),
    ("activity.html", include_str!("templates/activity.html")),
];

static ENV: LazyLock<Result<Environment<'static>, String>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    // `form.sku` on a page without a submitted form is simply empty.
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    for (name, source) in TEMPLATES {
        env.add_template(name, source).map_err(|e| format!("template {name}: {e}"))?;
    }
    Ok(env)
});

/// Renders template `name` with `ctx`.
pub fn render(name: &str, ctx: Value) -> Result<String, String> {
    let env = ENV.as_ref().map_err(Clone::clone)?;
    let template = env.get_template(name).map_err(|e| format!("template {name}: {e}"))?;
    template.render(ctx).map_err(|e| format!("rendering {name}: {e:#}"))
}
