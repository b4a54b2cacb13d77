package io.forkline.bench;

import java.util.HashMap;
import java.util.Map;

/**
 * {@code --name value} command-line options of the benchmark main classes.
 */
public final class Args {
    private final Map<String, String> values = new HashMap<>();

    /**
     * @throws IllegalArgumentException for an argument that is not {@code --name value}
     */
    public Args(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value, got '" + args[i] + "'");
            }
            values.put(args[i].substring(2), args[++i]);
        }
    }

    /** The integer option {@code name}, or {@code fallback}. @throws IllegalArgumentException when not an integer */
    public int intValue(String name, int fallback) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be an integer, got '" + v + "'");
        }
    }

    /** The string option {@code name}, or {@code fallback}. */
    public String value(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }
}
