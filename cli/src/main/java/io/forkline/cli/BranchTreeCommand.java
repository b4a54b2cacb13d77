package io.forkline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code forkline branch tree --tenant T}: the branches as a tree, each under its parent with its
 * branch point, compute state and, when its parent was reset or restored since, the timeline it
 * really hangs from.
 */
final class BranchTreeCommand extends ApiCommand {
    final TenantOption tenant = new TenantOption();

    @Override
    public CommandSpec spec() {
        CommandSpec spec = command("Show a tenant's branches as a tree.");
        tenant.addTo(spec);
        return spec;
    }

    @Override
    public void run() {
        JsonNode arr = client().get(AdminClient.branchesPath(tenant.name()));
        Map<String, JsonNode> byRef = new LinkedHashMap<>();
        Map<String, List<JsonNode>> children = new LinkedHashMap<>();
        for (JsonNode b : arr) {
            byRef.put(b.path("ref").asText(), b);
        }
        List<JsonNode> roots = new ArrayList<>();
        for (JsonNode b : arr) {
            String p = b.path("parent").isTextual() ? b.path("parent").asText() : null;
            if (p == null || !byRef.containsKey(p)) {
                roots.add(b);
            } else {
                children.computeIfAbsent(p, k -> new ArrayList<>()).add(b);
            }
        }
        for (JsonNode r : roots) {
            out().println(label(r));
            print(children, r.path("ref").asText(), "");
        }
    }

    private void print(Map<String, List<JsonNode>> children, String ref, String indent) {
        List<JsonNode> kids = children.getOrDefault(ref, List.of());
        for (int i = 0; i < kids.size(); i++) {
            boolean last = i == kids.size() - 1;
            JsonNode k = kids.get(i);
            out().println(indent + (last ? "└── " : "├── ") + label(k));
            print(children, k.path("ref").asText(), indent + (last ? "    " : "│   "));
        }
    }

    private static String label(JsonNode b) {
        StringBuilder s = new StringBuilder(b.path("ref").asText());
        if (b.path("ancestor_lsn").isTextual()) {
            s.append(" at ").append(b.path("ancestor_lsn").asText());
        }
        if (b.path("on_parent_timeline").isBoolean() && !b.path("on_parent_timeline").asBoolean()) {
            String tl = b.path("ancestor_timeline_id").asText("");
            s.append(b.path("ancestor_ref").isTextual()
                    ? " (on " + b.path("ancestor_ref").asText() + "'s timeline)"
                    : " (on a former timeline " + (tl.length() > 8 ? tl.substring(0, 8) : tl) + " of its parent)");
        }
        String state = b.path("endpoint").path("state").asText("stopped");
        if (!state.equals("stopped")) {
            s.append(" [").append(state).append("]");
        }
        if (b.path("protected").asBoolean()) {
            s.append(" [protected]");
        }
        return s.toString();
    }
}
