//! The options of `#[differentiable(..)]`: `wrt(a, b)` and `custom(jvp = path, vjp = path)`.

use syn::{parse::Parser, Ident, Path};

#[derive(Default)]
pub struct Args {
    /// The parameters to differentiate with respect to; `None` means every float parameter.
    pub wrt: Option<Vec<Ident>>,
    /// User-supplied derivative functions, used instead of transforming the body.
    pub custom: Option<Custom>,
}

pub struct Custom {
    pub jvp: Path,
    pub vjp: Path,
}

pub fn parse(attr: proc_macro2::TokenStream) -> syn::Result<Args> {
    let mut args = Args::default();
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("wrt") {
            let mut names = Vec::new();
            let empty = meta.input.fork().parse::<proc_macro2::Group>().is_ok_and(|g| g.stream().is_empty());
            if empty {
                return Err(meta.error("`wrt()` names no parameter; write e.g. `wrt(theta)`"));
            }
            meta.parse_nested_meta(|inner| {
                match inner.path.get_ident() {
                    Some(id) => names.push(id.clone()),
                    None => return Err(inner.error("`wrt` takes parameter names, e.g. `wrt(theta)`")),
                }
                Ok(())
            })?;
            if names.is_empty() {
                return Err(meta.error("`wrt()` names no parameter; write e.g. `wrt(theta)`"));
            }
            args.wrt = Some(names);
            Ok(())
        } else if meta.path.is_ident("custom") {
            let (mut jvp, mut vjp) = (None, None);
            meta.parse_nested_meta(|inner| {
                if inner.path.is_ident("jvp") {
                    jvp = Some(inner.value()?.parse::<Path>()?);
                } else if inner.path.is_ident("vjp") {
                    vjp = Some(inner.value()?.parse::<Path>()?);
                } else {
                    return Err(inner.error("`custom` takes `jvp = path` and `vjp = path`"));
                }
                Ok(())
            })?;
            match (jvp, vjp) {
                (Some(jvp), Some(vjp)) => args.custom = Some(Custom { jvp, vjp }),
                _ => return Err(meta.error("`custom` needs both rules: `custom(jvp = f_tangent, vjp = f_adjoint)`")),
            }
            Ok(())
        } else {
            let name = meta.path.get_ident().map(|i| i.to_string()).unwrap_or_else(|| "?".into());
            push(meta.error(format!(
                "unknown option `{name}` of #[differentiable]; expected `wrt(..)` or `custom(jvp = .., vjp = ..)`"
            )));
            // Skip the option's arguments so the remaining ones are still read.
            if meta.input.peek(syn::token::Paren) {
                let _ = meta.parse_nested_meta(|m| {
                    let _ = m.value().and_then(|v| v.parse::<syn::Expr>());
                    Ok(())
                });
            } else if meta.input.peek(syn::Token![=]) {
                let _ = meta.value().and_then(|v| v.parse::<syn::Expr>());
            }
            Ok(())
        }
    });
    if let Err(e) = parser.parse2(attr) {
        push(e);
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(args),
    }
}
