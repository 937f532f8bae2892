package org.outlierlab.jobs.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.outlierlab.dataprep.Manifest;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigLoader;
import org.outlierlab.jobs.train.TrainJobSettings;
import org.outlierlab.model.ModelConfig;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.graph.SiteTransforms;
import org.outlierlab.model.run.Checkpoint;
import org.outlierlab.model.run.RunLayout;

/**
 * One checkpoint to evaluate: the run, its step and file, the block and model its config.conf describes, and its tokens (the
 * evaluated ones, and the run's own training tokens, which calibration reads).
 */
public record QuantTarget(String runId, String runDir, long step, String checkpoint, String block, ModelConfig model,
    String dtype, String evalTokens, String trainTokens) implements Serializable {

  /** The model with this checkpoint's parameters, its sites transformed as given. */
  public TransformerLM load(SiteTransforms transforms, Configuration conf) throws IOException {
    return model(parameters(conf), transforms);
  }

  /** This checkpoint's parameters, read once for every model built from them. */
  public Map<String, INDArray> parameters(Configuration conf) throws IOException {
    return Checkpoint.read(new Path(checkpoint), conf).params();
  }

  /** The model with the given parameters (this checkpoint's), its sites transformed as given. */
  public TransformerLM model(Map<String, INDArray> parameters, SiteTransforms transforms) {
    TransformerLM built = new TransformerLM(model, DataType.valueOf(dtype), 0, transforms);
    built.loadParameters(parameters);
    return built;
  }

  /**
   * Every checkpoint the settings ask for, found and checked before any work: each run's latest, or each of
   * {@code quant.steps}, which every run must have.
   */
  public static List<QuantTarget> resolve(QuantEvalSettings s, Configuration conf) throws IOException {
    List<QuantTarget> targets = new ArrayList<>();
    for (Path run : runDirs(s.runs(), conf)) {
      SortedMap<Long, Path> checkpoints = Checkpoint.files(new RunLayout(run.toString()).checkpoints(), conf);
      if (checkpoints.isEmpty()) {
        throw new FileNotFoundException("quant.runs: run " + run.getName() + " has no checkpoints in "
            + new RunLayout(run.toString()).checkpoints() + "; train it with train.checkpoint_interval > 0");
      }
      List<Long> steps = s.steps().isEmpty() ? List.of(checkpoints.lastKey()) : s.steps();
      for (long step : steps) {
        if (!checkpoints.containsKey(step)) {
          throw new ConfigError("quant.steps: run " + run.getName() + " has no checkpoint at step " + step
              + "; its checkpoints: " + checkpoints.keySet());
        }
      }
      Config recorded = runConfig(run, conf);
      TrainJobSettings train = TrainJobSettings.read(recorded);
      String trainTokens = train.run().tokensDir();
      String evalTokens = s.tokens().isEmpty() ? trainTokens : s.tokens();
      JsonNode manifest = Manifest.read(evalTokens, s.tokens().isEmpty() ? "train.tokens" : "quant.tokens", conf);
      JsonNode own = Manifest.read(trainTokens, "train.tokens", conf);
      if (!manifest.get("vocab_size").equals(own.get("vocab_size"))
          || !manifest.get("row_length").equals(own.get("row_length"))) {
        throw new ConfigError("quant.tokens = " + evalTokens + " has vocab_size " + manifest.get("vocab_size")
            + " and row_length " + manifest.get("row_length") + "; run " + run.getName() + " was trained on "
            + own.get("vocab_size") + " and " + own.get("row_length") + " (" + trainTokens + ")");
      }
      ModelConfig model = train.model().forData(own.get("vocab_size").asInt(), own.get("row_length").asInt());
      for (long step : steps) {
        targets.add(new QuantTarget(run.getName(), run.toString(), step, checkpoints.get(step).toString(), train.block(),
            model, train.dtype().name(), evalTokens, trainTokens));
      }
    }
    return targets;
  }

  /** The run directories: each given one (with checkpoints/), or every run of each given warehouse. */
  private static List<Path> runDirs(List<String> runs, Configuration conf) throws IOException {
    List<Path> dirs = new ArrayList<>();
    for (String run : runs) {
      Path path = new Path(run);
      FileSystem fs = path.getFileSystem(conf);
      if (fs.exists(new RunLayout(run).checkpoints())) {
        dirs.add(fs.makeQualified(path));
      } else if (fs.exists(new Path(path, "runs"))) {
        for (FileStatus f : fs.listStatus(new Path(path, "runs"), p -> !p.getName().startsWith("."))) {
          if (f.isDirectory() && fs.exists(new RunLayout(f.getPath().toString()).checkpoints())) {
            dirs.add(f.getPath());
          }
        }
      } else {
        throw new FileNotFoundException("quant.runs: '" + run + "' is neither a run directory (with checkpoints/) "
            + "nor a warehouse (with runs/)");
      }
    }
    if (dirs.isEmpty()) {
      throw new FileNotFoundException("quant.runs " + runs + " hold no runs with checkpoints; train first");
    }
    return dirs;
  }

  /** The run's recorded model and train sections, over today's defaults for keys it predates. */
  private static Config runConfig(Path run, Configuration conf) throws IOException {
    Path file = new RunLayout(run.toString()).config();
    FileSystem fs = file.getFileSystem(conf);
    if (!fs.exists(file)) {
      throw new FileNotFoundException("run " + run.getName() + " has no config.conf, so its model is unknown");
    }
    try (var in = new InputStreamReader(fs.open(file), StandardCharsets.UTF_8)) {
      return ConfigFactory.parseReader(in).withFallback(ConfigLoader.defaults()).resolve();
    }
  }
}
