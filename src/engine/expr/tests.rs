//! End-to-end tests of the public API (parse + evaluate).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{Expr, Root, Scope};

/// A scope over a fixed set of roots.
pub(super) struct TestScope(HashMap<Root, Value>);

impl Scope for TestScope {
    fn root(&self, root: Root) -> Option<&Value> {
        self.0.get(&root)
    }
}

pub(super) fn scope(roots: &[(Root, Value)]) -> TestScope {
    TestScope(roots.iter().cloned().collect())
}

/// Evaluates `src` in value mode with `$` and `$Input` bound to `input`.
pub(super) fn eval_with(src: &str, input: Value) -> Result<Value, String> {
    let s = scope(&[(Root::Dollar, input.clone()), (Root::Input, input)]);
    let e = Expr::parse(src).map_err(|e| format!("parse: {e}"))?;
    e.eval(&s).map_err(|e| e.message)
}

pub(super) fn eval(src: &str) -> Result<Value, String> {
    eval_with(src, json!({}))
}

fn cond_with(src: &str, input: Value) -> Result<bool, String> {
    let s = scope(&[(Root::Dollar, input)]);
    let e = Expr::parse(src).map_err(|e| format!("parse: {e}"))?;
    e.eval_condition(&s).map_err(|e| e.message)
}

pub(super) fn parse_err(src: &str) -> String {
    match Expr::parse(src) {
        Ok(e) => panic!("{src:?} parsed: {e:?}"),
        Err(e) => e.message,
    }
}

fn fdl5_input() -> Value {
    json!({"a": 1, "b": {"b1": true, "b2": "ready"}, "c": [1, 2, 3], "d": 1.5, "e": "x y", "s": "10"})
}

#[test]
fn fdl5_condition_table() {
    let rows = [
        ("$.a == 1", true),
        ("$.a != 1", false),
        ("$.a > 0 && $.d <= 1.5", true),
        ("$.a > 1 || $.b.b1", true),
        ("!$.b.b1", false),
        ("$.b.b2 == \"ready\"", true),
        ("$.b.b2 == `ready`", true),
        ("$.c[2] >= 3", true),
        ("2 in $.c", true),
        ("5 in $.c", false),
        ("\"b2\" in $.b", true),
        ("-$.a < 0", true),
        ("($.a == 1 || $.a == 2) && $.e == \"x y\"", true),
        ("$.missing == \"ready\"", false),
        ("$.missing != \"ready\"", true),
        ("\"abc\" < \"abd\"", true),
        ("$.s == 10", false),
        ("$.d * 2 == 3", true),
        ("$.b.b2", false),
    ];
    for (src, want) in rows {
        assert_eq!(cond_with(src, fdl5_input()), Ok(want), "{src}");
    }
}

#[test]
fn fdl4_and_cf4_missing_keys_fall_through() {
    assert_eq!(cond_with("$.status == \"ready\"", json!({})), Ok(false));
    let s = scope(&[(Root::Input, json!({"status": "x"}))]);
    let e = Expr::parse("$Input.retries > 3 && $Input.status != \"ready\"").unwrap();
    assert_eq!(e.eval_condition(&s), Ok(false));
}

#[test]
fn missing_paths_by_mode() {
    let input = json!({"a": {"b": [1]}, "s": "str"});
    for (src, why) in [
        ("$.x", "path '$.x' not found: no key 'x'"),
        (
            "$.a.b[3]",
            "path '$.a.b[3]' not found: index 3 is out of range (length 1)",
        ),
        (
            "$.s.x",
            "path '$.s.x' not found: cannot apply '.x' to a string",
        ),
        (
            "$.a[0]",
            "path '$.a[0]' not found: cannot apply '[0]' to an object",
        ),
        (
            "$.a.b.c",
            "path '$.a.b.c' not found: cannot apply '.c' to an array",
        ),
    ] {
        assert_eq!(eval_with(src, input.clone()), Err(why.to_string()), "{src}");
        assert_eq!(
            cond_with(&format!("{src} == null"), input.clone()),
            Ok(true)
        );
    }
    // An unavailable root behaves like a missing path.
    let e = Expr::parse("$Output.x").unwrap();
    let s = scope(&[]);
    assert_eq!(
        e.eval(&s).unwrap_err().message,
        "path '$Output.x' not found: $Output is not available here"
    );
    assert_eq!(
        Expr::parse("$Output == null").unwrap().eval_condition(&s),
        Ok(true)
    );
    // A missing key inside a longer expression is still an error in value mode.
    assert!(eval_with("length($.x)", input.clone()).is_err());
    // In condition mode it is null, and a function rejecting null is an error.
    assert_eq!(
        cond_with("length($.x) > 0", input),
        Err("length: argument 1 must be an array, an object or a string, got null".into())
    );
}

#[test]
fn condition_mode_errors_are_reported() {
    let input = json!({"a": "x"});
    assert_eq!(
        cond_with("$.a + 1 == 2", input.clone()),
        Err("cannot apply '+' to string and number".into())
    );
    assert_eq!(
        cond_with("-$.a < 0", input.clone()),
        Err("cannot negate string".into())
    );
    assert_eq!(
        cond_with("1 / 0 == 1", input),
        Err("division by zero".into())
    );
}

#[test]
fn literals() {
    assert_eq!(eval("42"), Ok(json!(42)));
    assert_eq!(eval("-42"), Ok(json!(-42)));
    assert_eq!(eval("1.25"), Ok(json!(1.25)));
    assert_eq!(eval("\"a\\tb\""), Ok(json!("a\tb")));
    assert_eq!(eval("'single \\'q\\''"), Ok(json!("single 'q'")));
    assert_eq!(eval("`back \\n`"), Ok(json!("back \\n")));
    assert_eq!(eval("\"\\u4e2d\""), Ok(json!("中")));
    assert_eq!(eval("true"), Ok(json!(true)));
    assert_eq!(eval("false"), Ok(json!(false)));
    assert_eq!(eval("null"), Ok(json!(null)));
    assert_eq!(eval("[]"), Ok(json!([])));
    assert_eq!(eval("{}"), Ok(json!({})));
    assert_eq!(
        eval("[1, \"a\", [true], -2]"),
        Ok(json!([1, "a", [true], -2]))
    );
    assert_eq!(
        eval_with(
            "{\"n\": $Input.n + 1, 'k': [$Input.n, null], `x y`: {}}",
            json!({"n": 1})
        ),
        Ok(json!({"n": 2, "k": [1, null], "x y": {}}))
    );
    // Integers stay integers, decimals stay floats (docs/COMPATIBILITY.md#documents numbers).
    assert!(eval("10").unwrap().is_i64());
    assert!(eval("10.0").unwrap().is_f64());
}

#[test]
fn equality_and_ordering_operators() {
    let t = |src: &str| eval(src).unwrap();
    assert_eq!(t("1 == 1.0"), json!(true));
    assert_eq!(t("\"10\" == 10"), json!(false));
    assert_eq!(t("null == null"), json!(true));
    assert_eq!(t("[1, {\"a\": 2}] == [1.0, {\"a\": 2}]"), json!(true));
    assert_eq!(
        t("{\"a\": 1, \"b\": 2} == {\"b\": 2, \"a\": 1}"),
        json!(true)
    );
    assert_eq!(t("1 != 2"), json!(true));
    assert_eq!(t("1 < 2"), json!(true));
    assert_eq!(t("2 <= 2"), json!(true));
    assert_eq!(t("3 > 2.5"), json!(true));
    assert_eq!(t("2 >= 3"), json!(false));
    assert_eq!(t("\"b\" > \"a\""), json!(true));
    assert_eq!(t("null < 1"), json!(false));
    assert_eq!(t("null >= null"), json!(false));
    assert_eq!(t("\"1\" < 2"), json!(false));
    assert_eq!(t("true > false"), json!(false));
    assert_eq!(t("\"a\" in {\"a\": 1}"), json!(true));
    assert_eq!(t("1 in {\"1\": 1}"), json!(false));
    assert_eq!(t("\"a\" in \"abc\""), json!(false));
    assert_eq!(t("[1] in [[1], 2]"), json!(true));
}

#[test]
fn logic_operators() {
    let t = |src: &str| eval(src).unwrap();
    assert_eq!(t("true && true"), json!(true));
    assert_eq!(t("true && false"), json!(false));
    assert_eq!(t("false || true"), json!(true));
    assert_eq!(t("false || false"), json!(false));
    assert_eq!(t("!true"), json!(false));
    assert_eq!(t("!false"), json!(true));
    assert_eq!(t("!null"), json!(true));
    assert_eq!(t("!!true"), json!(true));
    // Non-boolean operands are "not true", never errors.
    assert_eq!(t("\"yes\" && true"), json!(false));
    assert_eq!(t("1 || false"), json!(false));
    assert_eq!(t("!\"x\""), json!(false));
    assert_eq!(t("!0"), json!(false));
    // Short circuit: the right side is never evaluated.
    assert_eq!(t("false && $Input.missing"), json!(false));
    assert_eq!(t("true || 1 / 0"), json!(true));
    assert_eq!(t("true && true && true && false"), json!(false));
}

#[test]
fn arithmetic_operators() {
    let t = |src: &str| eval(src).unwrap();
    assert_eq!(t("1 + 2"), json!(3));
    assert_eq!(t("5 - 7"), json!(-2));
    assert_eq!(t("6 * 7"), json!(42));
    assert_eq!(t("8 / 2"), json!(4));
    assert_eq!(t("7 / 2"), json!(3.5));
    assert_eq!(t("7 % 4"), json!(3));
    assert_eq!(t("1.5 + 1"), json!(2.5));
    assert_eq!(t("\"ab\" + \"cd\""), json!("abcd"));
    assert_eq!(t("- 3"), json!(-3));
    assert_eq!(t("--3"), json!(3));
    assert_eq!(t("9223372036854775807 + 1"), json!(9223372036854775808.0));
    assert_eq!(eval("1 % 0"), Err("modulo by zero".into()));
    assert_eq!(eval("1 / 0.0"), Err("division by zero".into()));
    assert_eq!(
        eval("\"a\" + 1"),
        Err("cannot apply '+' to string and number".into())
    );
    assert_eq!(
        eval("true * 2"),
        Err("cannot apply '*' to boolean and number".into())
    );
    assert_eq!(eval("-\"a\""), Err("cannot negate string".into()));
    assert_eq!(eval("-null"), Err("cannot negate null".into()));
    // CF-5: the same sum through arithmetic.
    let input = json!({"Branch0": {"FieldA": 123}, "Branch1": {"FieldA": 321}});
    assert_eq!(
        eval_with("$Input.Branch0.FieldA + $Input.Branch1.FieldA", input),
        Ok(json!(444))
    );
}

#[test]
fn precedence_and_associativity() {
    let t = |src: &str| eval(src).unwrap();
    assert_eq!(t("1 + 2 * 3"), json!(7));
    assert_eq!(t("(1 + 2) * 3"), json!(9));
    assert_eq!(t("10 - 4 - 3"), json!(3));
    assert_eq!(t("10 - (4 - 3)"), json!(9));
    assert_eq!(t("24 / 4 / 2"), json!(3));
    assert_eq!(t("24 / (4 / 2)"), json!(12));
    assert_eq!(t("7 % 4 * 2"), json!(6));
    assert_eq!(t("-2 * 3"), json!(-6));
    assert_eq!(t("-(2 + 3)"), json!(-5));
    assert_eq!(t("1 + 2 == 3"), json!(true));
    assert_eq!(t("true || false && false"), json!(true));
    assert_eq!(t("(true || false) && false"), json!(false));
    assert_eq!(t("!true || true"), json!(true));
    assert_eq!(t("!(true || true)"), json!(false));
    assert_eq!(t("1 + 1 in [2]"), json!(true));
    assert_eq!(t("\"a\" + \"b\" == \"ab\" && 2 > 1"), json!(true));
    assert_eq!(t("((((1))))"), json!(1));
}

#[test]
fn paths_and_accessors() {
    let input = json!({
        "a": {"b": [10, {"c": "deep"}]},
        "名字": {"城市": "杭州"},
        "x y": 1,
        "in": 2,
        "list": [{"parts": [1, 2]}, {"parts": [3]}, {"other": true}],
        "map": {"k1": {"id": 1}, "k2": {"id": 2}}
    });
    let t = |src: &str| eval_with(src, input.clone());
    assert_eq!(t("$"), Ok(input.clone()));
    assert_eq!(t("$Input"), Ok(input.clone()));
    assert_eq!(t("$.a.b[0]"), Ok(json!(10)));
    assert_eq!(t("$.a.b[1].c"), Ok(json!("deep")));
    assert_eq!(t("$[\"a\"]['b'][1][`c`]"), Ok(json!("deep")));
    assert_eq!(t("$.名字.城市"), Ok(json!("杭州")));
    assert_eq!(t("$[\"x y\"]"), Ok(json!(1)));
    assert_eq!(t("$.in"), Ok(json!(2)));
    assert_eq!(t("$ . a . b [ 0 ]"), Ok(json!(10)));
    assert_eq!(t("$.list[*].parts[*]"), Ok(json!([1, 2, 3])));
    assert_eq!(t("$.list[*].parts"), Ok(json!([[1, 2], [3]])));
    assert_eq!(t("$.list[*].parts[0]"), Ok(json!([1, 3])));
    assert_eq!(t("$.map[*].id"), Ok(json!([1, 2])));
    assert_eq!(t("$.list[*].missing"), Ok(json!([])));
    // A parenthesized projection is a value: `.parts` applies to the array itself.
    assert!(t("($.list[*]).parts").is_err());
    assert_eq!(t("($.list[*])[1].parts"), Ok(json!([3])));
    // Postfix accessors after calls and literals.
    assert_eq!(t("get($Input, \"a\").b[0]"), Ok(json!(10)));
    assert_eq!(t("[5, 6][1]"), Ok(json!(6)));
    assert_eq!(t("{\"k\": [1]}.k[0]"), Ok(json!(1)));
    assert_eq!(
        t("get($Input, \"a\").zz"),
        Err("path 'get($Input, \"a\").zz' not found: no key 'zz'".into())
    );
    assert_eq!(t("$.list[*].parts[*] == [1, 2, 3]"), Ok(json!(true)));
    assert_eq!(t("3 in $.list[*].parts[*]"), Ok(json!(true)));
}

#[test]
fn fdl_roots_and_wildcards() {
    let s = scope(&[
        (Root::FdlInput, json!({"result": "pass2"})),
        (
            Root::FdlLocal,
            json!([{"result": "pass1"}, {"result": "pass2", "extra": 1}]),
        ),
        (Root::FdlContext, json!({"step": {"name": "s1"}})),
    ]);
    let v = |src: &str| Expr::parse(src).unwrap().eval(&s).unwrap();
    assert_eq!(v("$input.result"), json!("pass2"));
    assert_eq!(v("$local[*].result"), json!(["pass1", "pass2"]));
    assert_eq!(v("$local[*].extra"), json!([1]));
    assert_eq!(v("$context.step.name"), json!("s1"));
    assert_eq!(v("$local"), s.0[&Root::FdlLocal]);
}

#[test]
fn cf3_and_cf6b_constructor_expressions() {
    let s = scope(&[
        (
            Root::Input,
            json!({"profile": {"name": "ann"}, "items": [10, 20]}),
        ),
        (
            Root::Context,
            json!({"Execution": {"Input": {"profile": {"name": "ann"}}}}),
        ),
        (
            Root::Output,
            json!({"Items": [{"id": 1, "tagged": true}, {"id": 2, "tagged": true}, {"id": 3, "tagged": true}]}),
        ),
    ]);
    let v = |src: &str| Expr::parse(src).unwrap().eval(&s).unwrap();
    assert_eq!(v("$Input.profile.name"), json!("ann"));
    assert_eq!(v("length($Input.items)"), json!(2));
    assert_eq!(
        v("format(\"hello {}\", $Input.profile.name)"),
        json!("hello ann")
    );
    assert_eq!(v("$Input.items[0]"), json!(10));
    assert_eq!(v("$Context.Execution.Input.profile.name"), json!("ann"));
    assert_eq!(v("$Output.Items[*].id"), json!([1, 2, 3]));
    assert_eq!(v("length($Output.Items)"), json!(3));
}

#[test]
fn parse_errors() {
    assert_eq!(parse_err("foo(1)"), "unknown function 'foo'");
    assert_eq!(parse_err("$foo.bar"), "unknown variable '$foo'");
    assert_eq!(parse_err("$.a == )"), "unexpected token ')' at position 7");
    assert_eq!(parse_err(""), "empty expression");
    assert_eq!(parse_err("   "), "empty expression");
    assert_eq!(
        parse_err("($.a"),
        "unexpected end of expression, expected ')'"
    );
    assert_eq!(parse_err("$.a)"), "unexpected token ')' at position 3");
    assert_eq!(parse_err("$.a $.b"), "unexpected token '$' at position 4");
    assert_eq!(parse_err("1 2"), "unexpected token '2' at position 2");
    assert_eq!(parse_err("$.a =="), "unexpected end of expression");
    assert_eq!(
        parse_err("1 == 1 == 1"),
        "unexpected token '==' at position 7 (comparisons cannot be chained; use parentheses)"
    );
    assert_eq!(
        parse_err("$.a.1"),
        "unexpected token '1' at position 4, expected a key name after '.'"
    );
    assert_eq!(
        parse_err("$.a[-1]"),
        "negative array index at position 4 is not supported"
    );
    assert_eq!(
        parse_err("$.a[b]"),
        "unexpected token 'b' at position 4, expected an index, a quoted key or '*'"
    );
    assert_eq!(
        parse_err("$.a[0"),
        "unexpected end of expression, expected ']'"
    );
    assert_eq!(
        parse_err("[1, 2"),
        "unexpected end of expression, expected ',' or ']'"
    );
    assert_eq!(parse_err("[1,]"), "unexpected token ']' at position 3");
    assert_eq!(
        parse_err("{a: 1}"),
        "unexpected token 'a' at position 1, expected a quoted key"
    );
    assert_eq!(
        parse_err("{\"a\" 1}"),
        "unexpected token '1' at position 5, expected ':'"
    );
    assert_eq!(
        parse_err("ready"),
        "unexpected identifier 'ready' at position 0 (variables start with '$', strings need quotes)"
    );
    assert_eq!(
        parse_err("length(1, 2)"),
        "function 'length' expects 1 argument, got 2"
    );
    assert_eq!(
        parse_err("hash(\"a\")"),
        "function 'hash' expects 2 arguments, got 1"
    );
    assert_eq!(
        parse_err("format()"),
        "function 'format' expects at least 1 argument, got 0"
    );
    assert_eq!(
        parse_err("uuid(1)"),
        "function 'uuid' expects 0 arguments, got 1"
    );
    assert_eq!(parse_err("Length([1])"), "unknown function 'Length'");
    assert!(
        parse_err("regexMatchString(\"(\", \"a\")")
            .starts_with("regexMatchString: invalid regular expression")
    );
    assert_eq!(
        parse_err("$.a = 1"),
        "unexpected character '=' at position 4 (use '==' to compare)"
    );
    // Long tokens are shortened in messages.
    let long = format!("1 \"{}\"", "x".repeat(100));
    assert!(parse_err(&long).contains("...' at position 2"));
}

#[test]
fn function_nesting_limit() {
    let nested = |n: usize| format!("{}1{}", "toArray(".repeat(n), ")".repeat(n));
    assert!(Expr::parse(&nested(10)).is_ok());
    assert_eq!(
        parse_err(&nested(11)),
        "built-in function calls are nested more than 10 deep at position 80"
    );
    // Siblings do not add up.
    let wide = vec![nested(10); 5].join(", ");
    assert!(Expr::parse(&format!("[{wide}]")).is_ok());
}

#[test]
fn nesting_limit_guards_recursion() {
    assert!(Expr::parse(&format!("{}1{}", "(".repeat(60), ")".repeat(60))).is_ok());
    for src in [
        format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)),
        format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000)),
        format!("{}1", "!".repeat(100_000)),
        format!("{}1", "-".repeat(100_000)),
        "{\"a\":".repeat(100_000),
    ] {
        assert!(
            parse_err(&src).contains("nested too deeply"),
            "{}",
            &src[..10]
        );
    }
    // The deepest accepted nesting evaluates fine on a 2 MiB test thread.
    let deep = format!("{}!!$Input.t{}", "[(".repeat(30), ")]".repeat(30));
    let mut want = json!(true);
    for _ in 0..30 {
        want = json!([want]);
    }
    assert_eq!(eval_with(&deep, json!({"t": true})), Ok(want));
    // Long flat chains are fine and evaluate without deep recursion.
    let chain = vec!["1"; 100_000].join(" + ");
    assert_eq!(eval(&chain), Ok(json!(100_000)));
    let ors = vec!["false"; 100_000].join(" || ");
    assert_eq!(eval(&ors), Ok(json!(false)));
}

#[test]
fn roots_and_is_path() {
    let roots = |src: &str| Expr::parse(src).unwrap().roots();
    assert_eq!(roots("1 + 2"), vec![]);
    assert_eq!(roots("$"), vec![Root::Dollar]);
    assert_eq!(
        roots("$Input.a == $Context.b || $Input.c in $Global.d"),
        vec![Root::Input, Root::Context, Root::Global]
    );
    assert_eq!(
        roots("format(\"{}\", [$Output.x, {\"k\": -$input}], !$local, $context)"),
        vec![
            Root::Output,
            Root::FdlInput,
            Root::FdlLocal,
            Root::FdlContext
        ]
    );
    assert_eq!(roots("get($Input, 'a').b"), vec![Root::Input]);

    let is_path = |src: &str| Expr::parse(src).unwrap().is_path();
    assert!(is_path("$"));
    assert!(is_path("$input"));
    assert!(is_path("$input.a.b[0]"));
    assert!(is_path("$local[*].parts[*]"));
    assert!(is_path(" $Input[\"x y\"] "));
    assert!(!is_path("($input.a)"));
    assert!(!is_path("$input.a + 1"));
    assert!(!is_path("-$input.a"));
    assert!(!is_path("length($input)"));
    assert!(!is_path("get($input, 'a').b"));
    assert!(!is_path("\"$input.a\""));
    assert!(!is_path("1"));
}

#[test]
fn source_is_kept_verbatim() {
    let e = Expr::parse("  $Input.a  ").unwrap();
    assert_eq!(e.source(), "  $Input.a  ");
    assert_eq!(e.clone().source(), "  $Input.a  ");
}

/// Every string over a small alphabet of grammar fragments (and every byte sequence of
/// length ≤ 2) must parse or fail cleanly; whatever parses must evaluate without panic.
#[test]
fn garbage_never_panics() {
    let s = scope(&[
        (
            Root::Dollar,
            json!({"a": [1, {"b": "x"}], "c": {"d": null}}),
        ),
        (Root::Input, json!({"a": [1, 2]})),
    ]);
    let check = |src: &str| {
        if let Ok(e) = Expr::parse(src) {
            let _ = e.eval(&s);
            let _ = e.eval_condition(&s);
            let _ = e.roots();
        }
    };
    let frags = [
        "$", ".", "a", "[", "]", "*", "(", ")", "\"", "'", "`", "\\", "1", "-", "!", "=", "==",
        "&&", "||", "<", ",", "{", "}", ":", "in", " ", "中", "length(", "get(", "é", "$Input",
        "0.5", "u", "/", "%", "+",
    ];
    for a in &frags {
        for b in &frags {
            for c in &frags {
                for d in &frags {
                    check(&format!("{a}{b}{c}{d}"));
                }
            }
        }
    }
    for a in 0u8..=255 {
        for b in 0u8..=255 {
            check(&String::from_utf8_lossy(&[a, b]));
            check(&String::from_utf8_lossy(&[b'$', b'.', a, b]));
            check(&String::from_utf8_lossy(&[b'"', b'\\', a, b]));
        }
    }
}
