package org.outlierlab.model.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.outlierlab.model.ModelConfig.Block;
import org.outlierlab.model.ModelConfig;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.optim.AdaFactor;
import org.outlierlab.model.optim.LrSchedule;
import org.outlierlab.model.optim.Optimizer;
import org.outlierlab.model.train.TrainStep;
import org.outlierlab.model.train.TrainStepTest;

class CheckpointTest {
  @TempDir Path dir;

  static final ModelConfig CONFIG = ModelConfig.of(Block.OP, 16, 16, 2, 2, 12);
  static final LrSchedule SCHEDULE = new LrSchedule(5e-3, 3, 12, LrSchedule.Decay.COSINE, 1e-4);

  static List<Double> train(TransformerLM model, Optimizer opt, long from, long to) {
    TrainStep step = new TrainStep(model, opt, SCHEDULE, 1.0);
    List<Double> losses = new ArrayList<>();
    for (long s = from; s < to; s++) {
      int[][][] b = TrainStepTest.batch(4, s);
      losses.add(step.run(s, b[0], b[1], Set.of()).loss());
    }
    return losses;
  }

  @Test
  void resumingFromACheckpointContinuesExactlyAsAnUninterruptedRun() throws Exception {
    TransformerLM straight = new TransformerLM(CONFIG, DataType.FLOAT, 5);
    List<Double> expected = train(straight, new AdaFactor(0.9, 0.95, 1e-8, 0.1), 0, 12);

    TransformerLM first = new TransformerLM(CONFIG, DataType.FLOAT, 5);
    Optimizer firstOpt = new AdaFactor(0.9, 0.95, 1e-8, 0.1);
    List<Double> losses = new ArrayList<>(train(first, firstOpt, 0, 7));
    org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration();
    org.apache.hadoop.fs.Path hadoopDir = new org.apache.hadoop.fs.Path(dir.toString());
    org.apache.hadoop.fs.Path file = new Checkpoint(7, first.parameters(), firstOpt.state(), Map.of("data_position", "28"))
        .saveTo(hadoopDir, conf);
    assertTrue(Files.exists(Path.of(file.toUri().getPath())));
    try (var files = Files.list(dir)) {
      assertEquals(0, files.filter(p -> p.getFileName().toString().endsWith(".tmp")).count(), "no temporary file left");
    }

    Checkpoint loaded = Checkpoint.latest(hadoopDir, conf).orElseThrow();
    assertEquals(7, loaded.step());
    assertEquals("28", loaded.extras().get("data_position"));
    TransformerLM resumed = new TransformerLM(CONFIG, DataType.FLOAT, 999); // different init, then overwritten
    resumed.loadParameters(loaded.params());
    Optimizer resumedOpt = new AdaFactor(0.9, 0.95, 1e-8, 0.1);
    resumedOpt.loadState(loaded.optimizerState());
    losses.addAll(train(resumed, resumedOpt, loaded.step(), 12));

    assertEquals(expected, losses);
    for (Map.Entry<String, INDArray> e : straight.parameters().entrySet()) {
      assertEquals(e.getValue(), resumed.parameters().get(e.getKey()), e.getKey());
    }
  }

  /** Written by the format-1 writer (Nd4j.write per array) before format 2: step 7, two parameters, two state arrays. */
  static final String V1_FIXTURE = "/checkpoints/checkpoint-000000000007.bin";

  static Checkpoint sample() {
    Map<String, INDArray> params = new java.util.LinkedHashMap<>();
    params.put("w", Nd4j.createFromArray(new float[][] {{1.5f, -2f, 0.25f}, {3f, 4f, -5f}}));
    params.put("b", Nd4j.createFromArray(0.125, -1e-3));
    Map<String, INDArray> state = new java.util.LinkedHashMap<>();
    state.put("w.m", Nd4j.createFromArray(new float[][] {{0.5f, 0f, -0.5f}, {1f, 2f, 3f}}));
    state.put("step", Nd4j.scalar(DataType.LONG, 7L));
    return new Checkpoint(7, params, state, Map.of("data_position", "28", "seed", "5"));
  }

  static void assertSame(Checkpoint expected, Checkpoint actual) {
    assertEquals(expected.step(), actual.step());
    assertEquals(expected.extras(), actual.extras());
    for (var pair : List.of(List.of(expected.params(), actual.params()),
        List.of(expected.optimizerState(), actual.optimizerState()))) {
      assertEquals(List.copyOf(pair.get(0).keySet()), List.copyOf(pair.get(1).keySet()), "names, in order");
      pair.get(0).forEach((name, a) -> {
        assertEquals(a.dataType(), pair.get(1).get(name).dataType(), name);
        assertEquals(a, pair.get(1).get(name), name);
      });
    }
  }

  @Test
  void aFormatOneCheckpointStillReads() throws Exception {
    try (InputStream in = CheckpointTest.class.getResourceAsStream(V1_FIXTURE)) {
      assertSame(sample(), Checkpoint.read(in));
    }
  }

  @Test
  void formatTwoRoundTripsExactly() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    sample().write(out);
    assertEquals(2, ByteBuffer.wrap(out.toByteArray(), 4, 4).getInt(), "version");
    assertSame(sample(), Checkpoint.read(new ByteArrayInputStream(out.toByteArray())));
  }

  @Test
  void aTruncatedOrDamagedCheckpointIsRefusedByName() throws Exception {
    org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration();
    org.apache.hadoop.fs.Path file = sample().saveTo(new org.apache.hadoop.fs.Path(dir.toString()), conf);
    Path local = Path.of(file.toUri().getPath());
    byte[] whole = Files.readAllBytes(local);
    // the damage a store without Hadoop's local .crc side files lets through (an object store, a copy)
    Files.delete(local.resolveSibling("." + local.getFileName() + ".crc"));

    Files.write(local, Arrays.copyOf(whole, whole.length - 20));
    IOException truncated = assertThrows(IOException.class, () -> Checkpoint.latest(file.getParent(), conf));
    assertTrue(truncated.getMessage().contains(file.getName()) && truncated.getMessage().contains("truncated"),
        truncated.getMessage());

    byte[] damaged = whole.clone();
    damaged[damaged.length - 30] ^= 0x10; // a bit of a value
    Files.write(local, damaged);
    IOException wrong = assertThrows(IOException.class, () -> Checkpoint.latest(file.getParent(), conf));
    assertTrue(wrong.getMessage().contains(file.getName()) && wrong.getMessage().contains("checksum"),
        wrong.getMessage());
    assertTrue(wrong.getMessage().contains("only checkpoint"), wrong.getMessage());
  }

  @Test
  void aDamagedLatestCheckpointNamesTheLatestIntactOneBeforeIt() throws Exception {
    org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration();
    org.apache.hadoop.fs.Path dirPath = new org.apache.hadoop.fs.Path(dir.toString());
    Checkpoint s = sample();
    org.apache.hadoop.fs.Path good = new Checkpoint(3, s.params(), s.optimizerState(), s.extras()).saveTo(dirPath, conf);
    org.apache.hadoop.fs.Path middle = new Checkpoint(5, s.params(), s.optimizerState(), s.extras()).saveTo(dirPath, conf);
    org.apache.hadoop.fs.Path last = s.saveTo(dirPath, conf);
    for (org.apache.hadoop.fs.Path p : List.of(middle, last)) { // both damaged, as by a full disk
      Path local = Path.of(p.toUri().getPath());
      Files.delete(local.resolveSibling("." + local.getFileName() + ".crc"));
      byte[] bytes = Files.readAllBytes(local);
      Files.write(local, Arrays.copyOf(bytes, bytes.length / 2));
    }
    IOException e = assertThrows(IOException.class, () -> Checkpoint.latest(dirPath, conf));
    String m = e.getMessage();
    assertTrue(m.contains(last.toUri().getPath() + ": checkpoint is truncated") && m.contains("truncated"), m);
    assertTrue(m.contains("The previous checkpoint, " + good.toUri().getPath() + " (step 3), is intact"), m);
    assertTrue(m.contains("(mv " + last.toUri().getPath() + " " + last.toUri().getPath() + ".damaged)"), m);
    Files.move(Path.of(last.toUri().getPath()), Path.of(last.toUri().getPath() + ".damaged"));
    Files.move(Path.of(middle.toUri().getPath()), Path.of(middle.toUri().getPath() + ".damaged"));
    assertEquals(3, Checkpoint.latest(dirPath, conf).orElseThrow().step(), "the damaged ones set aside, step 3 is read");
  }

  @Test
  void aDiskFillingUpDuringACheckpointLeavesThePreviousOneValidAndNothingHalfWritten() throws Exception {
    org.apache.hadoop.conf.Configuration conf = new org.apache.hadoop.conf.Configuration();
    org.apache.hadoop.fs.Path dirPath = new org.apache.hadoop.fs.Path(
        org.outlierlab.dataprep.fs.FaultyFileSystem.path(dir));
    Checkpoint s = sample();
    org.apache.hadoop.fs.Path first = new Checkpoint(3, s.params(), s.optimizerState(), s.extras()).saveTo(dirPath,
        conf);
    List<String> before = names();
    long size = Files.size(Path.of(first.toUri().getPath()));
    org.outlierlab.dataprep.fs.FaultyFileSystem.spaceLeft.set(size / 2); // the disk fills halfway through the next
    try {
      IOException full = assertThrows(IOException.class,
          () -> new Checkpoint(5, s.params(), s.optimizerState(), s.extras()).saveTo(dirPath, conf));
      assertTrue(String.valueOf(full.getMessage()).contains("No space left on device"), full.getMessage());
    } finally {
      org.outlierlab.dataprep.fs.FaultyFileSystem.heal();
    }
    assertEquals(before, names(), "no partial file left, no name taken");
    Checkpoint latest = Checkpoint.latest(dirPath, conf).orElseThrow();
    assertEquals(3, latest.step(), "the previous checkpoint is the latest, and reads back whole");
    assertEquals(s.params().keySet(), latest.params().keySet());
  }

  private List<String> names() throws IOException {
    try (var files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
