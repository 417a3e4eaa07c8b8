//! List properties and text coercion in the schema (`interests: list
//! separated by ";"`, `company_size: number from text`), and the `has` test
//! on lists (`interests has "ai"`, `has any of [...]`, `has all of [...]`).

use super::names::Ctx;
use super::types::{describe, Info, Ty, Typed};
use super::Compiler;
use crate::diagnostics::{Diagnostic, DiagnosticKind, TypeAdvice};
use crate::ops::HasQuantifier;
use crate::plan::{Cond, ConstValue, Operand};
use crate::snapshot::DeclaredType;
use crate::source::Span;
use crate::syntax::ast::{self, ExprKind, Literal};

/// The declared type once `from text` and `separated by` are applied to the
/// type `base` written in `decl`; misuses are reported and leave `base`.
pub(super) fn declared_modifiers(
    base: DeclaredType,
    decl: &ast::PropertyDecl,
    errors: &mut Vec<Diagnostic>,
) -> DeclaredType {
    let mut ty = base;
    if let Some(span) = decl.from_text {
        match base {
            DeclaredType::Number => ty = DeclaredType::NumberFromText,
            DeclaredType::Boolean => ty = DeclaredType::BooleanFromText,
            _ => errors.push(
                Diagnostic::new(
                    DiagnosticKind::FromTextNotConvertible {
                        type_name: format!("`{}`", decl.type_name.name),
                    },
                    span,
                )
                .with_label(format!("`{}` is not converted", decl.type_name.name))
                .with_note(decl.type_name.span, "declared type"),
            ),
        }
    }
    if let Some(separator) = &decl.separator {
        if base != DeclaredType::List {
            errors.push(
                Diagnostic::new(
                    DiagnosticKind::SeparatorNotList {
                        name: crate::syntax::written_name(&decl.name.name).into_owned(),
                        type_name: format!("`{}`", decl.type_name.name),
                    },
                    separator.span,
                )
                .with_label("only a list is split")
                .with_note(decl.type_name.span, "declared type"),
            );
        } else if separator.value.is_empty() {
            errors.push(Diagnostic::new(DiagnosticKind::EmptySeparator, separator.span).with_label("empty"));
        }
    }
    ty
}

impl<'a> Compiler<'a> {
    /// `left has right`, `left has any of right`, `left has all of right`.
    pub(super) fn has_test(
        &mut self,
        span: Span,
        left: &ast::Expr,
        quantifier: HasQuantifier,
        right: &ast::Expr,
        ignore_case: bool,
        ctx: Ctx<'_>,
    ) -> Option<Cond> {
        let list = self.operand(left, ctx);
        let elements: Option<Vec<ast::Expr>> = match quantifier {
            HasQuantifier::One => {
                if matches!(right.kind, ExprKind::Literal(Literal::List(_))) {
                    self.errors.push(
                        Diagnostic::new(DiagnosticKind::HasListWithoutQuantifier, right.span)
                            .with_label("a list"),
                    );
                    None
                } else {
                    Some(vec![right.clone()])
                }
            }
            HasQuantifier::Any | HasQuantifier::All => self.list_of(right),
        };
        let list = list?;
        let mut ok = self.expect_list(&list, quantifier);
        let mut needles = Vec::new();
        for element in elements? {
            let Some(needle) = self.operand(&element, ctx) else {
                ok = false;
                continue;
            };
            if quantifier != HasQuantifier::One && !matches!(needle.operand, Operand::Const(_)) {
                self.errors.push(
                    Diagnostic::new(DiagnosticKind::ListElementNotValue, needle.span)
                        .with_label("not a value"),
                );
                ok = false;
                continue;
            }
            if !self.expect_needle_text(&needle, quantifier) {
                ok = false;
                continue;
            }
            self.check_allowed(&list, &needle, ignore_case);
            needles.push(needle.operand);
        }
        let separator = match &list.info {
            Info::Property { separator, .. } => separator.clone().map(String::into_boxed_str),
            _ => None,
        };
        ok.then_some(Cond::Has {
            list: list.operand,
            quantifier,
            needles,
            separator,
            ignore_case,
            span,
        })
    }

    /// The value left of `has` is a list, or of a type known only at run time.
    fn expect_list(&mut self, list: &Typed, quantifier: HasQuantifier) -> bool {
        if matches!(list.ty, Ty::List | Ty::Any) {
            return true;
        }
        self.errors.push(
            Diagnostic::new(
                DiagnosticKind::ExpectedType {
                    what: quantifier.words().to_string(),
                    wanted: String::from("a list"),
                    subject: describe(list),
                    ty: list.ty.name(),
                    advice: TypeAdvice::HasNeedsList,
                },
                list.span,
            )
            .with_label(format!("this is {}", list.ty.name())),
        );
        false
    }

    /// A value looked for by `has` is text (a `null` is never in a list).
    fn expect_needle_text(&mut self, needle: &Typed, quantifier: HasQuantifier) -> bool {
        if matches!(needle.ty, Ty::Text | Ty::Any)
            && !matches!(needle.operand, Operand::Const(ConstValue::Null))
        {
            return true;
        }
        self.errors.push(
            Diagnostic::new(
                DiagnosticKind::ExpectedType {
                    what: quantifier.words().to_string(),
                    wanted: String::from("text"),
                    subject: describe(needle),
                    ty: needle.ty.name(),
                    advice: TypeAdvice::HasValueText,
                },
                needle.span,
            )
            .with_label(format!("this is {}", needle.ty.name())),
        );
        false
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{compiles, only_error};
    use crate::ops::HasQuantifier;
    use crate::plan::Cond;

    const SCHEMA: &str = "properties {\n  interests: list separated by \";\"\n  tags: list one of [\"a\", \"b\"]\n  company_size: number from text\n  country: text\n}\n";

    #[test]
    fn has_on_a_declared_list_keeps_the_separator() {
        let plan = compiles(&format!(
            "{SCHEMA}segment s when interests has any of [\"ai\", \"ml\"] ignoring case\n"
        ))
        .plan;
        let condition = plan.segments.first().map(|s| &s.condition);
        let Some(Cond::Has {
            quantifier,
            needles,
            separator,
            ignore_case,
            ..
        }) = condition
        else {
            unreachable!("{condition:?}")
        };
        assert_eq!(*quantifier, HasQuantifier::Any);
        assert_eq!(needles.len(), 2);
        assert_eq!(separator.as_deref(), Some(";"));
        assert!(ignore_case);
    }

    #[test]
    fn has_on_text_says_how_to_declare_a_list() {
        let d = only_error(&format!("{SCHEMA}segment s when country has \"US\"\n"));
        assert_eq!(d.code, "rubric::type_mismatch");
        assert_eq!(d.message, "`has` needs a list, but `country` is text");
        assert!(
            d.help.as_deref().is_some_and(|h| h.contains("list separated by")),
            "{d:?}"
        );
    }

    #[test]
    fn a_list_compared_with_text_points_to_has() {
        let d = only_error(&format!("{SCHEMA}segment s when interests == \"ai\"\n"));
        assert!(
            d.help.as_deref().is_some_and(|h| h.contains("`x has \"a\"`")),
            "{d:?}"
        );
    }

    #[test]
    fn a_list_after_has_needs_any_of_or_all_of() {
        let d = only_error(&format!("{SCHEMA}segment s when interests has [\"ai\"]\n"));
        assert_eq!(
            d.message,
            "`has` looks for one value; a list needs `any of` or `all of`"
        );
    }

    #[test]
    fn a_value_a_one_of_list_never_holds_is_reported() {
        let d = only_error(&format!("{SCHEMA}segment s when tags has \"c\"\n"));
        assert_eq!(d.code, "rubric::value_not_allowed");
    }

    #[test]
    fn from_text_and_separators_are_checked_in_the_schema() {
        let d = only_error("properties {\n  name: text from text\n}\n");
        assert_eq!(d.code, "rubric::unknown_type");
        assert_eq!(
            d.message,
            "`from text` converts text to a number or a boolean, not to `text`"
        );
        let d = only_error("properties {\n  name: text separated by \",\"\n}\n");
        assert_eq!(
            d.message,
            "`separated by` applies to a `list` property, not to `text`"
        );
        let d = only_error("properties {\n  tags: list separated by \"\"\n}\n");
        assert_eq!(d.message, "a list separator cannot be empty");
    }

    #[test]
    fn a_coerced_number_is_a_number_to_the_compiler() {
        compiles(&format!("{SCHEMA}segment s when company_size >= 50\n"));
        let d = only_error(&format!("{SCHEMA}segment s when company_size == \"56\"\n"));
        assert_eq!(d.code, "rubric::type_mismatch");
    }
}
