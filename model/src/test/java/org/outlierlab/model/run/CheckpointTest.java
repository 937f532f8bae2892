package org.outlierlab.model.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
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
}
