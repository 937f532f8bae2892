package org.outlierlab.jobs.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.outlierlab.dataprep.DataPrepSettings;

class ConfigLoaderTest {
  @TempDir Path dir;

  static Map<String, String> overrides(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void layersDefaultsThenExperimentFilesThenTheCommandLine() throws Exception {
    Path a = dir.resolve("a.conf");
    Files.writeString(a, "data_prep { seq_len = 256, mode = pack }\nspark.sql.shuffle.partitions = 7\n");
    Path b = dir.resolve("b.conf");
    Files.writeString(b, "data_prep.seq_len = 512\n");
    Config c = ConfigLoader.load(List.of(a.toString(), b.toString()), overrides("data_prep.mode", "chunk"));
    assertEquals(512, c.getInt("data_prep.seq_len"), "a later file wins");
    assertEquals("chunk", c.getString("data_prep.mode"), "the command line wins");
    assertEquals("content", c.getString("data_prep.codeparrot.text_field"), "untouched keys keep their default");
    assertEquals(7, c.getInt("spark.sql.shuffle.partitions"), "spark.* keys pass through");
  }

  @Test
  void unknownKeysAreRejectedWithWhereTheyCameFromAndTheNearestKey() throws Exception {
    Path a = dir.resolve("typo.conf");
    Files.writeString(a, "data_prep {\n  validation_fractoin = 0.2\n}\n");
    ConfigError e = assertThrows(ConfigError.class, () -> ConfigLoader.load(List.of(a.toString()), Map.of()));
    assertTrue(e.getMessage().contains("data_prep.validation_fractoin"), e.getMessage());
    assertTrue(e.getMessage().contains("typo.conf: 2"), e.getMessage());
    assertTrue(e.getMessage().contains("did you mean 'data_prep.validation_fraction'"), e.getMessage());
    ConfigError missing = assertThrows(ConfigError.class, () -> ConfigLoader.load(List.of("nope.conf"), Map.of()));
    assertTrue(missing.getMessage().contains("nope.conf"), missing.getMessage());
  }

  /** A protocol of one's own takes the keys of quant.protocol.paper, and only those. */
  @Test
  void namedSectionsTakeTheKeysOfTheirDefaultEntry() throws Exception {
    Path own = dir.resolve("w4.conf");
    Files.writeString(own, "quant.protocol.w4 = ${quant.protocol.paper} { weights.bits = 4 }\n");
    Config c = ConfigLoader.load(List.of(own.toString()), Map.of());
    assertEquals(4, c.getInt("quant.protocol.w4.weights.bits"));
    assertEquals(8, c.getInt("quant.protocol.w4.activations.bits"));
    Path typo = dir.resolve("typo-w4.conf");
    Files.writeString(typo, "quant.protocol.w4.weights.bitz = 4\n");
    ConfigError e = assertThrows(ConfigError.class, () -> ConfigLoader.load(List.of(typo.toString()), Map.of()));
    assertTrue(e.getMessage().contains("quant.protocol.w4.weights.bitz"), e.getMessage());
  }

  @Test
  void valuesAreCheckedAgainstWhatEachKeyAllows() {
    ConfigReader ok = new ConfigReader(ConfigLoader.load(List.of(), overrides("data_prep.input", "a,b , c")));
    assertEquals(List.of("a", "b", "c"), ok.stringList("data_prep.input"));
    assertEquals(DataPrepSettings.Mode.CHUNK, ok.choice("data_prep.mode", DataPrepSettings.Mode.class));

    ConfigReader bad = new ConfigReader(ConfigLoader.load(List.of(), overrides(
        "data_prep.seq_len", "many", "data_prep.overwrite", "maybe", "data_prep.validation_fraction", "1.5",
        "data_prep.mode", "stride")));
    assertMessage(() -> bad.intBetween("data_prep.seq_len", 2, 100), "data_prep.seq_len", "whole number");
    assertMessage(() -> bad.bool("data_prep.overwrite"), "data_prep.overwrite", "true or false");
    assertMessage(() -> bad.fraction("data_prep.validation_fraction", 0, 1, false), "data_prep.validation_fraction", "< 1.0");
    assertMessage(() -> bad.choice("data_prep.mode", DataPrepSettings.Mode.class), "data_prep.mode", "chunk, pack");
  }

  static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
    ConfigError e = assertThrows(ConfigError.class, call);
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), "'" + part + "' in: " + e.getMessage());
    }
  }

  @Test
  void theHelpTextIsTheDocumentedSection() {
    String help = ConfigLoader.documentedSection("data_prep");
    assertTrue(help.startsWith("# bin/oflab data-prep"), help);
    assertTrue(help.contains("seq_len = 128") && help.contains("# chunk:") && help.strip().endsWith("}"), help);
  }

  @Test
  void distanceIsLevenshtein() {
    assertEquals(0, ConfigLoader.distance("seq_len", "seq_len"));
    assertEquals(1, ConfigLoader.distance("seq_len", "seq_lenn"));
    assertEquals(2, ConfigLoader.distance("fraction", "fractoin"));
  }
}
