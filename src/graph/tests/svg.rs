//! The SVG: well-formed, one focusable group per node with its id, classes for statuses,
//! no inline style or script, user text escaped and long names cut.

use std::collections::BTreeMap;

use super::{definitions, parse};
use crate::graph::{NodeStatus, Status, layout, render_svg, statuses};

fn document(svg: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(svg).unwrap_or_else(|error| panic!("{error}\n{svg}"))
}

#[test]
fn every_node_is_a_focusable_group_with_its_id() {
    for example in definitions::worked_examples() {
        let definition = parse(&example.definition, example.flow_name);
        let graph = layout(&definition);
        let svg = render_svg(&graph, None);
        let doc = document(&svg);
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(
            root.attribute("viewBox"),
            Some(format!("0 0 {} {}", graph.width.round(), graph.height.round()).as_str())
                .filter(|_| graph.width.fract() == 0.0 && graph.height.fract() == 0.0)
                .or(root.attribute("viewBox"))
        );
        assert!(root.attribute("viewBox").unwrap().starts_with("0 0 "));
        for node in graph.nodes.iter().filter(|node| !node.kind.is_marker()) {
            let group = doc
                .descendants()
                .find(|n| n.attribute("data-node") == Some(node.id.as_str()))
                .unwrap_or_else(|| panic!("{}: no group for {}", example.name, node.id));
            assert_eq!(group.tag_name().name(), "g");
            assert_eq!(group.attribute("tabindex"), Some("0"));
            assert_eq!(group.attribute("role"), Some("button"));
            assert!(
                group
                    .attribute("aria-label")
                    .is_some_and(|label| label.contains(&node.label))
            );
            let classes = group.attribute("class").unwrap_or_default();
            assert!(classes.split(' ').any(|c| c == "node"), "{classes}");
            assert!(!classes.contains("status-"), "no statuses given: {classes}");
        }
        // Strict CSP: no inline style, no script, no event handler.
        for element in doc.descendants().filter(|n| n.is_element()) {
            assert_ne!(element.tag_name().name(), "script");
            assert_ne!(element.tag_name().name(), "style");
            for attribute in element.attributes() {
                assert_ne!(attribute.name(), "style");
                assert!(!attribute.name().starts_with("on"), "{}", attribute.name());
            }
        }
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name("path")
                    && n.parent().is_some_and(|p| p
                        .attribute("class")
                        .is_some_and(|c| c.starts_with("edge "))))
                .count(),
            graph.edges.len()
        );
    }
}

#[test]
fn statuses_become_classes() {
    let definition = parse(definitions::CF_9, "cf-fail");
    let graph = layout(&definition);
    let mut all: BTreeMap<String, NodeStatus> = statuses(&definition, []);
    all.get_mut("Fail1").unwrap().status = Status::Failed;
    all.get_mut("Fail1").unwrap().attempts = 3;
    let svg = render_svg(&graph, Some(&all));
    let doc = document(&svg);
    let class_of = |id: &str| {
        doc.descendants()
            .find(|n| n.attribute("data-node") == Some(id))
            .and_then(|n| n.attribute("class"))
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(class_of("Fail1"), "node kind-fail status-failed");
    assert_eq!(class_of("Pass1"), "node kind-pass status-not-reached");
    assert!(svg.contains("×3"));
}

#[test]
fn user_text_is_escaped_and_long_names_are_cut() {
    let long = "x".repeat(120);
    let text = format!(
        r#"
Type: StateMachine
Name: xss
SpecVersion: v1
StartAt: "<script>alert('1')</script>"
States:
  - Type: Choice
    Name: "<script>alert('1')</script>"
    Branches:
      - Condition: $Input.a < 1 && $Input.b > "</text><script>"
        Next: "{long}"
    Default: "\" onmouseover=\"alert(1)"
  - Type: Pass
    Name: "{long}"
    End: true
  - Type: Pass
    Name: "\" onmouseover=\"alert(1)"
    End: true
"#
    );
    let definition = parse(&text, "xss");
    let graph = layout(&definition);
    let svg = render_svg(&graph, None);
    assert!(!svg.contains("<script"));
    assert!(!svg.contains("\" onmouseover"));
    let doc = document(&svg);
    assert!(doc.descendants().all(|n| !n.has_tag_name("script")));
    assert!(
        doc.descendants()
            .all(|n| n.attributes().all(|a| !a.name().starts_with("on")))
    );
    // The condition reads back as written.
    let condition = r#"$Input.a < 1 && $Input.b > "</text><script>""#;
    assert!(
        doc.descendants()
            .any(|n| n.has_tag_name("title") && n.text() == Some(condition))
    );
    // The long name is cut in the box and whole in the title.
    let group = doc
        .descendants()
        .find(|n| n.attribute("data-node") == Some(long.as_str()))
        .unwrap();
    let label = group
        .descendants()
        .find(|n| n.attribute("class") == Some("node-label"))
        .unwrap();
    assert!(label.text().unwrap().ends_with('…'));
    assert!(label.text().unwrap().len() < long.len());
    let title = group
        .descendants()
        .find(|n| n.has_tag_name("title"))
        .unwrap();
    assert!(title.text().unwrap().contains(&long));
}

#[test]
fn the_stylesheet_styles_every_status() {
    for status in [
        "not-reached",
        "running",
        "succeeded",
        "retried",
        "caught",
        "failed",
        "cancelled",
    ] {
        assert!(
            crate::graph::STYLESHEET.contains(&format!(".status-{status}")),
            "{status}"
        );
    }
}
