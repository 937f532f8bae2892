package org.outlierlab.jobs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.outlierlab.jobs.config.ConfigError;

/**
 * {@code <job> [--conf FILE]... [--master URL] [--key value | --key=value | --flag]...}. A key that does not
 * start with a top-level section ({@code spark}, {@code data_prep}, ...) is taken in the job's section:
 * {@code --seq_len} is {@code data_prep.seq_len} for data-prep. A flag with no value means true.
 */
record CommandLine(String job, List<String> confFiles, Map<String, String> overrides, boolean help) {

  static CommandLine parse(String[] args, Map<String, String> sectionOfJob, java.util.Set<String> topLevelSections) {
    if (args.length == 0) {
      return new CommandLine(null, List.of(), Map.of(), true);
    }
    String job = args[0];
    String section = sectionOfJob.get(job);
    List<String> confFiles = new ArrayList<>();
    Map<String, String> overrides = new LinkedHashMap<>();
    boolean help = false;
    for (int i = 1; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("--help") || arg.equals("-h")) {
        help = true;
        continue;
      }
      if (!arg.startsWith("--") || arg.length() == 2) {
        throw new ConfigError("unexpected argument '" + arg + "'; options look like --key value (see --help)");
      }
      String key = arg.substring(2);
      String value;
      int eq = key.indexOf('=');
      if (eq >= 0) {
        value = key.substring(eq + 1);
        key = key.substring(0, eq);
      } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
        value = args[++i];
      } else {
        value = "true";
      }
      if (key.equals("conf")) {
        confFiles.add(value);
      } else if (key.equals("master")) {
        overrides.put("spark.master", value);
      } else {
        String top = key.contains(".") ? key.substring(0, key.indexOf('.')) : key;
        overrides.put(topLevelSections.contains(top) || section == null ? key : section + "." + key, value);
      }
    }
    return new CommandLine(job, confFiles, overrides, help);
  }
}
