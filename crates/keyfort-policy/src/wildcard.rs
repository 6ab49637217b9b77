//! Patterns: literal text, the wildcards `*` and `?`, and policy variables,
//! split once at parse time and matched without allocating.
//!
//! A pattern is a list of [`Token`]s. Wildcards are only tokens when the element
//! allows them (Action, Resource, `StringLike`, `Arn*`); variables only when the
//! policy is Version 2012-10-17 and the element allows them (Resource, `String*`
//! and `Arn*` condition values). `${*}`, `${?}` and `${$}` are literal characters.
//! A variable's value is always matched literally, never as a wildcard.

use crate::context::normalize_key;

/// Resolves a (normalized) policy variable name to its single value.
pub(crate) trait Resolver {
    /// The variable's value, or `None` when the request has none (or several).
    fn resolve(&self, key: &str) -> Option<&str>;
}

/// One piece of a pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    /// Literal text (lowercased when the pattern is case-insensitive).
    Lit(Box<str>),
    /// `*`: any run of characters, including none.
    Star,
    /// `?`: exactly one character.
    One,
    /// `${key}` or `${key, 'default'}`.
    Var {
        /// Normalized key name.
        key: Box<str>,
        /// The default used when the key has no value.
        default: Option<Box<str>>,
    },
}

/// How a pattern is matched, decided once at parse time.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    /// `*` alone: matches everything.
    Any,
    /// No wildcard and no variable: a plain comparison.
    Exact,
    /// Anything else: the token matcher.
    Tokens,
}

/// A parsed pattern; `raw` keeps the text as written (for round trips and messages).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pattern {
    raw: Box<str>,
    /// For [`Shape::Exact`]: the literal (lowercased if case-insensitive).
    exact: Box<str>,
    tokens: Box<[Token]>,
    shape: Shape,
    case_insensitive: bool,
}

/// What a pattern may contain.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Syntax {
    /// `*` and `?` are wildcards.
    pub wildcards: bool,
    /// `${...}` is a policy variable.
    pub variables: bool,
    /// Match ignoring ASCII case (actions).
    pub case_insensitive: bool,
}

impl Pattern {
    /// Splits `raw` into tokens according to `syntax`.
    pub(crate) fn new(raw: &str, syntax: Syntax) -> Pattern {
        let mut tokens: Vec<Token> = Vec::new();
        let mut lit = String::new();
        let mut rest = raw;
        while let Some(c) = rest.chars().next() {
            if syntax.variables && rest.starts_with("${") {
                if let Some(end) = rest.find('}') {
                    let inner = &rest[2..end];
                    rest = &rest[end + 1..];
                    match inner.trim() {
                        "*" => lit.push('*'),
                        "?" => lit.push('?'),
                        "$" => lit.push('$'),
                        body => {
                            flush(&mut tokens, &mut lit, syntax.case_insensitive);
                            tokens.push(parse_var(body));
                        }
                    }
                    continue;
                }
            }
            rest = &rest[c.len_utf8()..];
            match c {
                '*' if syntax.wildcards => {
                    flush(&mut tokens, &mut lit, syntax.case_insensitive);
                    // Consecutive stars are one star.
                    if tokens.last() != Some(&Token::Star) {
                        tokens.push(Token::Star);
                    }
                }
                '?' if syntax.wildcards => {
                    flush(&mut tokens, &mut lit, syntax.case_insensitive);
                    tokens.push(Token::One);
                }
                c => lit.push(c),
            }
        }
        flush(&mut tokens, &mut lit, syntax.case_insensitive);
        let (shape, exact) = match tokens.as_slice() {
            [Token::Star] => (Shape::Any, Box::from("")),
            [] => (Shape::Exact, Box::from("")),
            [Token::Lit(l)] => (Shape::Exact, l.clone()),
            _ => (Shape::Tokens, Box::from("")),
        };
        Pattern {
            raw: raw.into(),
            exact,
            tokens: tokens.into_boxed_slice(),
            shape,
            case_insensitive: syntax.case_insensitive,
        }
    }

    /// The text as written in the policy.
    pub(crate) fn raw(&self) -> &str {
        &self.raw
    }

    /// True for the pattern `*` (with wildcards enabled).
    pub(crate) fn is_any(&self) -> bool {
        self.shape == Shape::Any
    }

    /// The tokens, for component-wise (ARN) splitting.
    pub(crate) fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// Builds a pattern from already split tokens (an ARN component).
    pub(crate) fn from_tokens(tokens: Vec<Token>) -> Pattern {
        let (shape, exact) = match tokens.as_slice() {
            [Token::Star] => (Shape::Any, Box::from("")),
            [] => (Shape::Exact, Box::from("")),
            [Token::Lit(l)] => (Shape::Exact, l.clone()),
            _ => (Shape::Tokens, Box::from("")),
        };
        Pattern {
            raw: Box::from(""),
            exact,
            tokens: tokens.into_boxed_slice(),
            shape,
            case_insensitive: false,
        }
    }

    /// Does `text` match? An unresolved variable never matches.
    pub(crate) fn matches(&self, text: &str, vars: &dyn Resolver) -> bool {
        match self.shape {
            Shape::Any => true,
            Shape::Exact => {
                if self.case_insensitive {
                    text.eq_ignore_ascii_case(&self.exact)
                } else {
                    text == &*self.exact
                }
            }
            Shape::Tokens => glob(&self.tokens, text, self.case_insensitive, vars),
        }
    }

    /// Resolves the pattern to a string (no wildcards expected); for
    /// case-insensitive equality. `None` if a variable is unresolved.
    pub(crate) fn eq_ignore_case(&self, text: &str, vars: &dyn Resolver) -> bool {
        let mut pos = 0;
        for t in self.tokens.iter() {
            let piece: &str = match t {
                Token::Lit(l) => l,
                Token::Var { key, default } => match vars.resolve(key).or(default.as_deref()) {
                    Some(v) => v,
                    None => return false,
                },
                Token::Star => "*",
                Token::One => "?",
            };
            let Some(rest) = text.get(pos..) else {
                return false;
            };
            match prefix_len_ignore_case(rest, piece) {
                Some(n) => pos += n,
                None => return false,
            }
        }
        pos == text.len()
    }
}

/// Length in `text` of a prefix equal to `piece` ignoring case, if there is one.
fn prefix_len_ignore_case(text: &str, piece: &str) -> Option<usize> {
    if piece.is_ascii() {
        let n = piece.len();
        let head = text.as_bytes().get(..n)?;
        return head.eq_ignore_ascii_case(piece.as_bytes()).then_some(n);
    }
    // Unicode: compare char by char with full lowercase mappings.
    let mut it = text.char_indices();
    let mut consumed = 0;
    for pc in piece.chars() {
        let (i, tc) = it.next()?;
        if !tc.to_lowercase().eq(pc.to_lowercase()) {
            return None;
        }
        consumed = i + tc.len_utf8();
    }
    Some(consumed)
}

fn flush(tokens: &mut Vec<Token>, lit: &mut String, case_insensitive: bool) {
    if lit.is_empty() {
        return;
    }
    let text = std::mem::take(lit);
    let text = if case_insensitive {
        text.to_ascii_lowercase()
    } else {
        text
    };
    tokens.push(Token::Lit(text.into_boxed_str()));
}

/// `key` or `key, 'default'` (whitespace around either is ignored).
fn parse_var(body: &str) -> Token {
    if let Some((key, default)) = body.split_once(',') {
        let d = default.trim();
        if d.len() >= 2 && d.starts_with('\'') && d.ends_with('\'') {
            return Token::Var {
                key: normalize_key(key.trim()).into(),
                default: Some(d[1..d.len() - 1].into()),
            };
        }
    }
    Token::Var {
        key: normalize_key(body).into(),
        default: None,
    }
}

fn starts_with_at(text: &str, pos: usize, piece: &str, ci: bool) -> bool {
    let Some(head) = text.as_bytes().get(pos..pos + piece.len()) else {
        return false;
    };
    if ci {
        head.eq_ignore_ascii_case(piece.as_bytes())
    } else {
        head == piece.as_bytes()
    }
}

/// Glob matching over tokens with single-star backtracking: on a mismatch, the
/// last `*` takes one more character and matching resumes after it. Linear in
/// practice, never exponential.
fn glob(tokens: &[Token], text: &str, ci: bool, vars: &dyn Resolver) -> bool {
    let mut ti = 0;
    let mut pos = 0;
    // (token index after the last star, text position that star extends to)
    let mut back: Option<(usize, usize)> = None;
    loop {
        let advanced = match tokens.get(ti) {
            None => {
                if pos == text.len() {
                    return true;
                }
                false
            }
            Some(Token::Star) => {
                // A trailing star takes the rest of the text.
                if ti + 1 == tokens.len() {
                    return true;
                }
                // The star first takes text up to the next place its following
                // literal occurs; if it occurs nowhere, nothing can match.
                let Some(np) = skip_to_literal(tokens.get(ti + 1), text, pos, ci) else {
                    return false;
                };
                back = Some((ti + 1, np));
                ti += 1;
                pos = np;
                continue;
            }
            Some(Token::One) => match text.get(pos..).and_then(|r| r.chars().next()) {
                Some(c) => {
                    pos += c.len_utf8();
                    true
                }
                None => false,
            },
            Some(Token::Lit(l)) => {
                let ok = starts_with_at(text, pos, l, ci);
                if ok {
                    pos += l.len();
                }
                ok
            }
            Some(Token::Var { key, default }) => {
                let Some(v) = vars.resolve(key).or(default.as_deref()) else {
                    return false;
                };
                let ok = starts_with_at(text, pos, v, false);
                if ok {
                    pos += v.len();
                }
                ok
            }
        };
        if advanced {
            ti += 1;
            continue;
        }
        // Mismatch: the last star takes one more character (and then up to the
        // next occurrence of its literal) and matching resumes after it.
        let Some((bt, bpos)) = back else {
            return false;
        };
        let Some(c) = text.get(bpos..).and_then(|r| r.chars().next()) else {
            return false;
        };
        let Some(np) = skip_to_literal(tokens.get(bt), text, bpos + c.len_utf8(), ci) else {
            return false;
        };
        back = Some((bt, np));
        ti = bt;
        pos = np;
    }
}

/// Where, from `from`, the literal `next` (the token after a star) first
/// occurs; `from` itself when the next token is not a literal.
fn skip_to_literal(next: Option<&Token>, text: &str, from: usize, ci: bool) -> Option<usize> {
    let Some(Token::Lit(lit)) = next else {
        return Some(from);
    };
    let rest = text.get(from..)?;
    let needle = lit.as_bytes();
    let hay = rest.as_bytes();
    // Patterns and texts are short: a plain scan beats setting up a substring
    // searcher. Matching bytes of a UTF-8 literal can only start at a char boundary.
    let last = hay.len().checked_sub(needle.len())?;
    let first = *needle.first()?;
    (0..=last)
        .find(|&i| {
            let window = &hay[i..i + needle.len()];
            if ci {
                window[0].eq_ignore_ascii_case(&first) && window.eq_ignore_ascii_case(needle)
            } else {
                window[0] == first && window == needle
            }
        })
        .map(|i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Vars;
    impl Resolver for Vars {
        fn resolve(&self, key: &str) -> Option<&str> {
            match key {
                "aws:username" => Some("alice"),
                "aws:principaltag/Team" => Some("blue*"),
                _ => None,
            }
        }
    }

    const GLOB: Syntax = Syntax {
        wildcards: true,
        variables: true,
        case_insensitive: false,
    };
    const ACTION: Syntax = Syntax {
        wildcards: true,
        variables: false,
        case_insensitive: true,
    };

    fn m(p: &str, s: Syntax, t: &str) -> bool {
        Pattern::new(p, s).matches(t, &Vars)
    }

    #[test]
    fn wildcards() {
        assert!(m("*", GLOB, ""));
        assert!(m("*", GLOB, "anything"));
        assert!(m("a*c", GLOB, "abbbc"));
        assert!(m("a*c", GLOB, "ac"));
        assert!(!m("a*c", GLOB, "acb"));
        assert!(m("a?c", GLOB, "abc"));
        assert!(!m("a?c", GLOB, "ac"));
        assert!(m("a?c", GLOB, "aéc"));
        assert!(m("*b*b*", GLOB, "abxxbc"));
        assert!(!m("*b*b*", GLOB, "abxxc"));
        assert!(m("a**b", GLOB, "axyb"));
        assert!(m(
            "arn:aws:kms:*:111122223333:key/*",
            GLOB,
            "arn:aws:kms:us-east-1:111122223333:key/1"
        ));
        assert!(!m(
            "arn:aws:kms:*:111122223333:key/*",
            GLOB,
            "arn:aws:kms:us-east-1:444455556666:key/1"
        ));
        assert!(!m("ABC", GLOB, "abc"));
        assert!(m("x*", GLOB, "x"));
        assert!(!m("", GLOB, "x"));
        assert!(m("", GLOB, ""));
    }

    #[test]
    fn actions_ignore_case() {
        assert!(m("kms:Encrypt", ACTION, "KMS:encrypt"));
        assert!(m(
            "kms:Generate*",
            ACTION,
            "kms:GenerateDataKeyWithoutPlaintext"
        ));
        assert!(!m("kms:Generate*", ACTION, "kms:Encrypt"));
        assert!(m("kms:*crypt", ACTION, "kms:ReEncrypt"));
        assert!(m("kms:Describe?ey", ACTION, "kms:DescribeKey"));
    }

    #[test]
    fn variables() {
        assert!(m(
            "arn:aws:s3:::b/${aws:username}/*",
            GLOB,
            "arn:aws:s3:::b/alice/x"
        ));
        assert!(!m(
            "arn:aws:s3:::b/${aws:username}/*",
            GLOB,
            "arn:aws:s3:::b/bob/x"
        ));
        // Variable names are case-insensitive; spaces are ignored.
        assert!(m("${ AWS:UserName }", GLOB, "alice"));
        // Unresolved: never matches, even against itself.
        assert!(!m("${aws:nope}", GLOB, "${aws:nope}"));
        assert!(!m("*${aws:nope}", GLOB, "x"));
        // Default value.
        assert!(m("${aws:nope, 'dflt'}", GLOB, "dflt"));
        assert!(m("${aws:username, 'dflt'}", GLOB, "alice"));
        // Values are literal, never wildcards.
        assert!(m("${aws:PrincipalTag/Team}", GLOB, "blue*"));
        assert!(!m("${aws:PrincipalTag/Team}", GLOB, "blueberry"));
        // Specials.
        assert!(m("a${*}b", GLOB, "a*b"));
        assert!(!m("a${*}b", GLOB, "axb"));
        assert!(m("${?}${$}", GLOB, "?$"));
        // Without variable syntax, `${...}` is text.
        let plain = Syntax {
            wildcards: true,
            variables: false,
            case_insensitive: false,
        };
        assert!(m("${aws:username}", plain, "${aws:username}"));
        // Unterminated: text.
        assert!(m("${aws:username", GLOB, "${aws:username"));
    }

    #[test]
    fn ignore_case_equality() {
        let p = Pattern::new(
            "Hello-${aws:username}",
            Syntax {
                wildcards: false,
                variables: true,
                case_insensitive: false,
            },
        );
        assert!(p.eq_ignore_case("hello-ALICE", &Vars));
        assert!(!p.eq_ignore_case("hello-ALICEx", &Vars));
        let u = Pattern::new(
            "ÄÖ",
            Syntax {
                wildcards: false,
                variables: false,
                case_insensitive: false,
            },
        );
        assert!(u.eq_ignore_case("äö", &Vars));
    }
}
