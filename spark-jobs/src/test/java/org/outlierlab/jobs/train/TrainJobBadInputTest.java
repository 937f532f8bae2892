package org.outlierlab.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.outlierlab.dataprep.fs.FaultyFileSystem;
import org.outlierlab.dataprep.fs.WritableDirectory;
import org.outlierlab.jobs.Main;
import org.outlierlab.jobs.config.ConfigError;

/** Training given tokens or a warehouse it must not use: each refused before any work, by name, nothing lost. */
class TrainJobBadInputTest {
  @TempDir Path dir;

  @AfterEach
  void heal() {
    FaultyFileSystem.heal();
  }

  String[] train(String tokens, String warehouse, String... extra) {
    List<String> args = new java.util.ArrayList<>(List.of("train", "--master", "local[2]", "--spark.ui.enabled",
        "false", "--workers", "1", "--tokens", tokens, "--warehouse", warehouse, "--run_id", "tiny", "--steps", "4",
        "--batch_size", "4", "--log_interval", "2", "--eval_interval", "0", "--checkpoint_interval", "2",
        "--snapshot_steps", "[]", "--snapshot_interval", "0", "--model.d_model", "16", "--model.n_layers", "1",
        "--model.n_heads", "2"));
    args.addAll(List.of(extra));
    return args.toArray(new String[0]);
  }

  @Test
  void aWarehouseThatCannotBeWrittenStopsTheJobBeforeItStarts() throws Exception {
    String tokens = org.outlierlab.jobs.TestTokens.prepare(dir);
    Path warehouse = Files.createDirectories(dir.resolve("mounted"));
    FaultyFileSystem.readOnly = true;
    var e = assertThrows(WritableDirectory.NotWritableException.class,
        () -> Main.run(train(tokens, FaultyFileSystem.path(warehouse))));
    assertTrue(e.getMessage().startsWith("train.warehouse = 'faulty:" + warehouse + "': cannot write in faulty:"
        + warehouse + "/runs (") && e.getMessage().contains("Read-only file system"), e.getMessage());
    assertEquals("oflab: " + e.getMessage(), "oflab: " + Main.describe(e), "reported as it is");
    try (var files = Files.list(warehouse)) {
      assertEquals(0, files.count(), "nothing written");
    }
    FaultyFileSystem.heal();
    assertEquals(0, Main.run(train(tokens, FaultyFileSystem.path(warehouse))), "once writable, the same job trains");
  }

  @Test
  void resumingOnOtherTokensOrOnADirectoryWithoutAManifestIsRefused() throws Exception {
    String tokens = org.outlierlab.jobs.TestTokens.prepare(dir);
    String warehouse = dir.resolve("wh").toString();
    assertEquals(0, Main.run(train(tokens, warehouse, "--steps", "2")));
    assertTrue(Files.readString(dir.resolve("wh/runs/tiny/tokens_manifest.json")).contains("\"sha256\""),
        "the run records the manifest of its tokens");

    // the same shards re-made with another tokenizer: the manifest says so
    Path other = dir.resolve("other-tokens");
    try (var files = Files.walk(Path.of(tokens))) {
      for (Path f : files.toList()) {
        Files.copy(f, other.resolve(Path.of(tokens).relativize(f).toString()));
      }
    }
    Path manifest = other.resolve("_manifest.json");
    String text = Files.readString(manifest);
    String sha = text.replaceAll("(?s).*\"sha256\"\\s*:\\s*\"([0-9a-f]+)\".*", "$1");
    Files.writeString(manifest, text.replace(sha, "0".repeat(sha.length())));
    Files.deleteIfExists(other.resolve("._manifest.json.crc")); // Hadoop's checksum of the file as it was
    byte[] checkpoints = checkpointListing();
    var changed = assertThrows(ConfigError.class, () -> Main.run(train(other.toString(), warehouse, "--resume")));
    assertTrue(changed.getMessage().startsWith("train.tokens = '") && changed.getMessage().contains(
        "is not the data run tiny was trained on: its tokenizer.sha256 is \"" + "0".repeat(sha.length())
        + "\", the run's is \"" + sha + "\"") && changed.getMessage().contains("or train a new run"),
        changed.getMessage());

    Files.delete(manifest);
    var none = assertThrows(FileNotFoundException.class, () -> Main.run(train(other.toString(), warehouse, "--resume")));
    assertTrue(none.getMessage().contains("is not a data-prep output (no _manifest.json)"), none.getMessage());
    assertEquals(new String(checkpoints), new String(checkpointListing()), "the run's checkpoints are untouched");

    assertEquals(0, Main.run(train(tokens, warehouse, "--resume")), "its own tokens resume it");
  }

  private byte[] checkpointListing() throws Exception {
    try (var files = Files.list(dir.resolve("wh/runs/tiny/checkpoints"))) {
      return files.map(p -> p.getFileName() + " " + p.toFile().length()).sorted().toList().toString().getBytes();
    }
  }
}
