package org.outlierlab.jobs.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.io.File;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Resolves a job's configuration from its layers: conf/defaults.conf (bundled), experiment files, then
 * command-line overrides. Rejects keys the defaults do not define, suggesting the nearest known key.
 */
public final class ConfigLoader {
  public static final String DEFAULTS_RESOURCE = "conf/defaults.conf";
  /** Keys under this prefix go to Spark unchanged. */
  public static final String SPARK_PREFIX = "spark.";

  private ConfigLoader() {}

  public static Config defaults() {
    return ConfigFactory.parseResources(
        ConfigLoader.class.getClassLoader(), DEFAULTS_RESOURCE, ConfigParseOptions.defaults().setAllowMissing(false));
  }

  /** Layers {@code overrides} (full keys, as typed) over {@code files} over the defaults, then validates keys. */
  public static Config load(List<String> files, Map<String, String> overrides) {
    Config defaults = defaults();
    Config config = defaults;
    for (String file : files) {
      File f = new File(file);
      if (!f.isFile()) {
        throw new ConfigError("--conf: experiment file '" + file + "' does not exist");
      }
      try {
        config = ConfigFactory.parseFile(f, ConfigParseOptions.defaults().setAllowMissing(false))
            .withFallback(config);
      } catch (ConfigException e) {
        throw new ConfigError("--conf " + file + ": " + e.getMessage());
      }
    }
    for (Map.Entry<String, String> e : overrides.entrySet()) {
      config = withOverride(config, spelledAsKnown(e.getKey(), defaults), e.getValue());
    }
    try {
      config = config.resolve();
    } catch (ConfigException e) {
      throw new ConfigError(e.getMessage());
    }
    rejectUnknownKeys(config, defaults);
    return config;
  }

  /** An option spelled with '-' for '_' ({@code --dry-run}) as the key the defaults spell with '_'. */
  private static String spelledAsKnown(String key, Config defaults) {
    String underscored = key.replace('-', '_');
    return !defaults.hasPath(key) && !key.startsWith(SPARK_PREFIX) && defaults.hasPath(underscored) ? underscored : key;
  }

  /** A command-line value, typed like the key's default (so "--seq_len 256" is a number). */
  private static Config withOverride(Config config, String key, String value) {
    Object typed = value;
    try {
      ConfigValue existing = config.hasPath(key) ? config.getValue(key) : null;
      if (existing != null && existing.valueType() == com.typesafe.config.ConfigValueType.LIST) {
        typed = listValue(value);
      }
    } catch (ConfigException e) {
      throw new ConfigError("--" + key + ": " + e.getMessage());
    }
    return config.withValue(key, ConfigValueFactory.fromAnyRef(typed, "command line --" + key));
  }

  /** "[0, 100]" or "0,100" as HOCON (numbers stay numbers); paths like "file:/a,b" as plain strings. */
  private static Object listValue(String value) {
    String bracketed = value.strip().startsWith("[") ? value : "[" + value + "]";
    try {
      return ConfigFactory.parseString("v = " + bracketed).getList("v").unwrapped();
    } catch (ConfigException e) {
      return value.isEmpty() ? List.of() : List.of(value.split(","));
    }
  }

  private static void rejectUnknownKeys(Config config, Config defaults) {
    Set<String> known = defaults.entrySet().stream().map(Map.Entry::getKey).collect(Collectors.toCollection(TreeSet::new));
    for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
      String key = e.getKey();
      if (known.contains(key) || key.startsWith(SPARK_PREFIX) || known.contains(asNamedSection(key))) {
        continue;
      }
      String origin = e.getValue().origin().description();
      throw new ConfigError("unknown key '" + key + "' (" + origin + ")" + suggestion(key, known)
          + "; every key is listed with its meaning in conf/defaults.conf");
    }
  }

  /**
   * Sections a user may add under their own names, each with the keys of the defaults' entry named here:
   * quant.protocol.w4a8.weights.bits is a key because quant.protocol.paper.weights.bits is.
   */
  private static final Map<String, String> NAMED_SECTIONS = Map.of("quant.protocol.", "paper");

  /** The key as the defaults' entry of its named section would spell it (itself outside such a section). */
  private static String asNamedSection(String key) {
    for (Map.Entry<String, String> named : NAMED_SECTIONS.entrySet()) {
      if (key.startsWith(named.getKey())) {
        String rest = key.substring(named.getKey().length());
        int dot = rest.indexOf('.');
        return dot < 0 ? key : named.getKey() + named.getValue() + rest.substring(dot);
      }
    }
    return key;
  }

  private static String suggestion(String key, Set<String> known) {
    String best = known.stream().min(Comparator.comparingInt(k -> distance(k, key))).orElse(null);
    return best != null && distance(best, key) <= Math.max(2, key.length() / 4) ? "; did you mean '" + best + "'?" : "";
  }

  /** Levenshtein distance. */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j], cur[j - 1]) + 1);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /** The text of a top-level section of the defaults file, comments included: a job's documented options. */
  public static String documentedSection(String section) {
    String text;
    try (var in = ConfigLoader.class.getClassLoader().getResourceAsStream(DEFAULTS_RESOURCE)) {
      text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.io.IOException | NullPointerException e) {
      throw new IllegalStateException("the build did not bundle " + DEFAULTS_RESOURCE, e);
    }
    List<String> lines = List.of(text.split("\n"));
    int start = 0;
    while (start < lines.size() && !lines.get(start).startsWith(section + " {")) {
      start++;
    }
    while (start > 0 && lines.get(start - 1).startsWith("#")) {
      start--; // the comment introducing the section
    }
    int depth = 0;
    List<String> out = new ArrayList<>();
    for (int i = start; i < lines.size(); i++) {
      String line = lines.get(i);
      out.add(line);
      depth += line.chars().filter(c -> c == '{').count() - line.chars().filter(c -> c == '}').count();
      if (depth == 0 && line.contains("}")) {
        break;
      }
    }
    return String.join("\n", out);
  }

  /** The sections of {@code config} a job uses, rendered for the log. */
  public static String render(Config config, List<String> sections) {
    List<String> parts = new ArrayList<>();
    for (String section : sections) {
      if (config.hasPath(section)) {
        parts.add(section + " " + config.getConfig(section).root()
            .render(ConfigRenderOptions.concise().setFormatted(true).setJson(false)));
      }
    }
    return String.join("\n", parts);
  }
}
