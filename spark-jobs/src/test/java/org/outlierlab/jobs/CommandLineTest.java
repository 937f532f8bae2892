package org.outlierlab.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.outlierlab.jobs.config.ConfigError;

class CommandLineTest {
  static CommandLine parse(String... args) {
    return CommandLine.parse(args, Map.of("data-prep", "data_prep"), Set.of("spark", "data_prep"));
  }

  @Test
  void shortKeysBelongToTheJobsSectionAndFlagsMeanTrue() {
    CommandLine cli = parse("data-prep", "--conf", "x.conf", "--seq_len", "64", "--languini.train_list=t.txt",
        "--overwrite", "--master", "local[2]", "--spark.ui.enabled", "false", "--data_prep.mode", "pack", "--conf", "y.conf");
    assertEquals("data-prep", cli.job());
    assertEquals(List.of("x.conf", "y.conf"), cli.confFiles());
    assertEquals(Map.of(
        "data_prep.seq_len", "64",
        "data_prep.languini.train_list", "t.txt",
        "data_prep.overwrite", "true",
        "spark.master", "local[2]",
        "spark.ui.enabled", "false",
        "data_prep.mode", "pack"), cli.overrides());
  }

  @Test
  void strayArgumentsAreRejected() {
    ConfigError e = assertThrows(ConfigError.class, () -> parse("data-prep", "input.txt"));
    assertTrue(e.getMessage().contains("input.txt"), e.getMessage());
    assertTrue(parse().help());
    assertTrue(parse("data-prep", "--help").help());
  }
}
