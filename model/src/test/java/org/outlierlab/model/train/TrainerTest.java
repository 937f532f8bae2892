package org.outlierlab.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.outlierlab.dataprep.corpus.DocumentInfo;
import org.outlierlab.dataprep.shard.ShardWriter;
import org.outlierlab.model.ModelConfig;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.optim.AdamW;
import org.outlierlab.model.optim.LrSchedule;

class TrainerTest {
  static final int V = 16;
  static final int T = 8;
  static final Configuration CONF = new Configuration();
  static final ModelConfig MODEL = ModelConfig.of(ModelConfig.Block.PRE_LN, V, 16, 2, 2, T);

  @TempDir java.nio.file.Path dir;

  /** Token shards like data-prep's pack mode: rows of T + 1 tokens of a learnable counting language. */
  String shards() throws IOException {
    return shards(16);
  }

  /** 96 rows, the last {@code validationRows} of them in the validation split. */
  String shards(int validationRows) throws IOException {
    String out = dir.resolve("tokens").toString();
    try (ShardWriter w = new ShardWriter(CONF, new Path(out), 0, "t")) {
      java.util.Random r = new java.util.Random(1);
      for (int i = 0; i < 96; i++) {
        int start = r.nextInt(V);
        int stride = 1 + r.nextInt(2);
        int[] row = new int[T + 1];
        for (int k = 0; k <= T; k++) {
          row[k] = (start + stride * k) % V;
        }
        w.write(i < 96 - validationRows ? "train" : "validation", i, row, new DocumentInfo("s", i, null, null, null));
      }
      w.commit();
    }
    Files.writeString(dir.resolve("tokens/_manifest.json"), "{}");
    return out;
  }

  TrainSettings settings(String runDir, String tokens, long steps) {
    return TrainSettings.builder("run-a", runDir, tokens).batchSize(8).steps(steps).seed(7)
        .schedule(new LrSchedule(1e-2, 3, 30, LrSchedule.Decay.LINEAR, 1e-3)).clipNorm(1.0)
        .logInterval(5).evalInterval(10).evalBatches(2).checkpointInterval(10)
        .snapshotSteps(Set.of(0L, 25L)).snapshotInterval(0).snapshotWindow(TrainSettings.StepRange.NONE).probe(2)
        .snapshotSites(Set.of("resid_attn_in", "resid_mlp_in", "unembed_in")).snapshotLayers(Set.of())
        .snapshotAttentionEntropy(true).fixedProbe(false).shuffleWindow(0).threads(1)
        .build();
  }

  static List<Group> readAll(String dir) throws IOException {
    List<Group> rows = new ArrayList<>();
    Path p = new Path(dir);
    for (var f : p.getFileSystem(CONF).listStatus(p, x -> x.getName().endsWith(".parquet") && !x.getName().startsWith("."))) {
      try (ParquetReader<Group> r = ParquetReader.builder(new GroupReadSupport(), f.getPath()).withConf(CONF).build()) {
        for (Group g = r.read(); g != null; g = r.read()) {
          rows.add(g);
        }
      }
    }
    return rows;
  }

  @Test
  void aRunWritesSnapshotsLogsAndCheckpointsAndTheLossFalls() throws Exception {
    String tokens = shards();
    String run = dir.resolve("run").toString();
    TransformerLM model = new TransformerLM(MODEL, DataType.FLOAT, 3);
    List<String> lines = new ArrayList<>();
    Trainer.Summary summary = new Trainer(model, new AdamW(0.9, 0.99, 1e-8, 0.1), settings(run, tokens, 30), CONF, lines::add)
        .run(false);
    assertTrue(summary.lastLoss() < 1.5, "loss " + summary.lastLoss());
    assertTrue(summary.lastValLoss() < 2.0, "val loss " + summary.lastValLoss());
    assertTrue(lines.stream().anyMatch(l -> l.contains("tokens/s") && l.contains("ETA")), lines.toString());

    List<Group> log = readAll(run + "/train_log");
    assertEquals(List.of(4L, 9L, 14L, 19L, 24L, 29L), log.stream().map(g -> g.getLong("step", 0)).sorted().toList());
    assertTrue(log.stream().filter(g -> g.getLong("step", 0) == 9).allMatch(g -> g.getFieldRepetitionCount("val_loss") == 1));

    // Snapshots at steps 0 and 25: 2 probe sequences x T tokens per layer site, plus entropy rows per layer.
    List<Group> snaps = readAll(run + "/snapshots");
    Map<String, Integer> counts = new TreeMap<>();
    for (Group g : snaps) {
      counts.merge(g.getLong("step", 0) + "/" + g.getString("site", 0) + "/" + g.getInteger("layer", 0), 1, Integer::sum);
      int width = g.getGroup("values", 0).getFieldRepetitionCount("list");
      assertEquals(g.getString("site", 0).equals("attn_entropy") ? 2 : 16, width);
    }
    Map<String, Integer> expected = new TreeMap<>();
    for (long step : List.of(0L, 25L)) {
      for (int l = 0; l < 2; l++) {
        expected.put(step + "/resid_attn_in/" + l, 2 * T);
        expected.put(step + "/resid_mlp_in/" + l, 2 * T);
        expected.put(step + "/attn_entropy/" + l, 1);
      }
      expected.put(step + "/unembed_in/2", 2 * T);
    }
    assertEquals(expected, counts);
    for (Group g : snaps) {
      if (g.getString("site", 0).equals("attn_entropy")) {
        float e = g.getGroup("values", 0).getGroup("list", 0).getFloat("element", 0);
        assertTrue(e > 0 && e <= Math.log(T) + 1e-5, "entropy " + e);
      }
    }
    assertTrue(Files.exists(dir.resolve("run/checkpoints/checkpoint-000000000030.bin")));
  }

  @Test
  void aKilledRunResumedFromItsCheckpointEqualsAnUninterruptedOne() throws Exception {
    String tokens = shards();
    String straightDir = dir.resolve("straight").toString();
    TransformerLM straight = new TransformerLM(MODEL, DataType.FLOAT, 3);
    new Trainer(straight, new AdamW(0.9, 0.99, 1e-8, 0.1), settings(straightDir, tokens, 30), CONF, l -> {}).run(false);

    String resumedDir = dir.resolve("resumed").toString();
    new Trainer(new TransformerLM(MODEL, DataType.FLOAT, 3), new AdamW(0.9, 0.99, 1e-8, 0.1),
        settings(resumedDir, tokens, 20), CONF, l -> {}).run(false); // "killed" after its step-20 checkpoint
    TransformerLM resumed = new TransformerLM(MODEL, DataType.FLOAT, 3);
    Trainer.Summary s = new Trainer(resumed, new AdamW(0.9, 0.99, 1e-8, 0.1), settings(resumedDir, tokens, 30), CONF, l -> {})
        .run(true);
    assertEquals(20, s.firstStep());
    for (Map.Entry<String, INDArray> e : straight.parameters().entrySet()) {
      assertEquals(e.getValue(), resumed.parameters().get(e.getKey()), e.getKey());
    }
    Map<Long, Double> a = new TreeMap<>();
    readAll(straightDir + "/train_log").forEach(g -> a.put(g.getLong("step", 0), g.getDouble("loss", 0)));
    Map<Long, Double> b = new TreeMap<>();
    List<Group> resumedLog = readAll(resumedDir + "/train_log");
    resumedLog.forEach(g -> b.put(g.getLong("step", 0), g.getDouble("loss", 0)));
    assertEquals(a, b);
    assertEquals(a.size(), resumedLog.size(), "no duplicated train_log rows");
  }

  /**
   * With fixed probes the alarm is checked before the step trains: a stop keeps the model as it is, at the alarm's
   * step, and a resume without the stop ends where an uninterrupted run does.
   */
  @Test
  void anAlarmOnFixedProbesStopsTheRunBeforeItsStepAndTheRunResumesExactly() throws Exception {
    String tokens = shards();
    AlarmSettings stop = new AlarmSettings(AlarmSettings.Action.STOP, Set.of("resid_attn_in"),
        Set.of(AlarmSettings.Rule.KURTOSIS), 10, 1, 20, 100, 1000, 10, 0);
    TrainSettings alarmed = settings(dir.resolve("alarmed").toString(), tokens, 30).toBuilder().fixedProbe(true)
        .snapshotSteps(Set.of(0L, 15L)).alarm(stop).build();
    List<String> lines = new ArrayList<>();
    Trainer.Summary stopped = new Trainer(new TransformerLM(MODEL, DataType.FLOAT, 3), new AdamW(0.9, 0.99, 1e-8, 0.1),
        alarmed, CONF, lines::add).run(false);
    assertTrue(stopped.outliers() && stopped.steps() == 15, stopped.toString());
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("outlier alarm (stop): run run-a, step 15, layer 0, site "
        + "resid_attn_in: kurtosis (Eq 1) ")), lines.toString());
    assertTrue(Files.exists(dir.resolve("alarmed/checkpoints/checkpoint-000000000015.bin")));
    assertEquals(2, readAll(dir.resolve("alarmed/alarms").toString()).size(), "layers 0 and 1");

    TransformerLM resumed = new TransformerLM(MODEL, DataType.FLOAT, 3);
    new Trainer(resumed, new AdamW(0.9, 0.99, 1e-8, 0.1), alarmed.toBuilder().alarm(AlarmSettings.OFF).build(), CONF,
        l -> {}).run(true);
    TransformerLM straight = new TransformerLM(MODEL, DataType.FLOAT, 3);
    new Trainer(straight, new AdamW(0.9, 0.99, 1e-8, 0.1), settings(dir.resolve("straight").toString(), tokens, 30)
        .toBuilder().fixedProbe(true).snapshotSteps(Set.of(0L, 15L)).alarm(AlarmSettings.OFF).build(), CONF, l -> {})
        .run(false);
    for (Map.Entry<String, INDArray> e : straight.parameters().entrySet()) {
      assertEquals(e.getValue(), resumed.parameters().get(e.getKey()), e.getKey());
    }
  }

  @Test
  void aRunWithoutAValidationSplitSaysSoAndLogsNoValidationLoss() throws Exception {
    String tokens = shards(0);
    String run = dir.resolve("run").toString();
    List<String> lines = new ArrayList<>();
    Trainer.Summary summary = new Trainer(new TransformerLM(MODEL, DataType.FLOAT, 3), new AdamW(0.9, 0.99, 1e-8, 0.1),
        settings(run, tokens, 10), CONF, lines::add).run(false);
    assertTrue(lines.get(0).contains("no validation loss in this run") && lines.get(0).contains("0 sequences"),
        lines.toString());
    assertTrue(lines.stream().noneMatch(l -> l.contains("val loss") || l.contains("NaN")), lines.toString());
    assertTrue(Double.isFinite(summary.lastLoss()));
    List<Group> log = readAll(run + "/train_log");
    assertTrue(!log.isEmpty() && log.stream().allMatch(g -> g.getFieldRepetitionCount("val_loss") == 0),
        "val_loss is null, never NaN");
  }

  @Test
  void rowsOfTheWrongLengthAreRefusedWithTheFix() throws Exception {
    String tokens = shards();
    TransformerLM model = new TransformerLM(ModelConfig.of(ModelConfig.Block.OP, V, 16, 1, 2, T + 3), DataType.FLOAT, 3);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
        new Trainer(model, new AdamW(0.9, 0.99, 1e-8, 0), settings(dir.resolve("r").toString(), tokens, 5), CONF, l -> {})
            .run(false));
    assertTrue(e.getMessage().contains("set model.seq_len to " + T), e.getMessage());
  }
}
