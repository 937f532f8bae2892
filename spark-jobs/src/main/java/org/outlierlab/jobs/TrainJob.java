package org.outlierlab.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.nd4j.linalg.api.buffer.DataType;
import org.outlierlab.dataprep.Manifest;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigReader;
import org.outlierlab.model.ModelConfig;
import org.outlierlab.model.TrainStep;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.train.RunInfo;
import org.outlierlab.model.train.TrainSettings;
import org.outlierlab.model.train.Trainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The train job, single worker: one process trains the model on the token shards and writes the run's
 * tables. (Parameter averaging across Spark executors builds on this.)
 */
final class TrainJob {
  private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);

  enum Precision {
    FLOAT,
    DOUBLE
  }

  private TrainJob() {}

  static Trainer.Summary run(Config config) throws IOException {
    ConfigReader c = new ConfigReader(config);
    Configuration conf = new Configuration();
    String tokens = c.string("train.tokens");
    TrainConfig.model(c, 2, 2); // every model.* key checked before any file is read (sizes come from the shards)
    TrainConfig.optimizer(c);
    JsonNode manifest = manifest(tokens, conf);
    ModelConfig modelConfig = TrainConfig.model(c, manifest.get("vocab_size").asInt(), manifest.get("row_length").asInt());
    TrainSettings settings = TrainConfig.settings(c, c.string("model.block"));
    var optimizer = TrainConfig.optimizer(c);
    DataType dtype = c.choice("train.dtype", Precision.class) == Precision.DOUBLE ? DataType.DOUBLE : DataType.FLOAT;
    boolean resume = c.bool("train.resume");

    Path runDir = new Path(settings.runDir());
    FileSystem fs = runDir.getFileSystem(conf);
    if (fs.exists(runDir) && !resume) {
      throw new ConfigError("run " + settings.runId() + " already exists in " + runDir
          + "; pass --resume to continue it, or choose another train.run_id");
    }
    if (resume && !fs.exists(runDir)) {
      throw new ConfigError("train.resume: there is no run " + settings.runId() + " in " + runDir + " to resume");
    }
    String resolved = writeConfig(config, new Path(runDir, "config.conf"), fs);
    String block = c.string("model.block");
    String started = java.time.Instant.now().toString();
    TransformerLM model = new TransformerLM(modelConfig, dtype, settings.seed());
    long params = model.parameters().values().stream().mapToLong(a -> a.length()).sum();
    LOG.info("train: run {} in {}: {} {} parameters, {} steps of {} x {} tokens", settings.runId(), runDir,
        c.string("model.block"), params, settings.steps(), settings.batchSize(), modelConfig.seqLen());
    new RunInfo(settings.runId(), block, resolved, "running", started, null, 0, 0, Double.NaN, Double.NaN)
        .write(settings.runDir(), conf);
    long start = System.nanoTime();
    Trainer.Summary summary;
    try {
      summary = new Trainer(model, optimizer, settings, conf, line -> System.err.println("[train] " + line)).run(resume);
    } catch (IOException | RuntimeException e) {
      String status = e instanceof TrainStep.DivergedException ? "diverged" : "failed";
      new RunInfo(settings.runId(), block, resolved, status, started, java.time.Instant.now().toString(), 0,
          (System.nanoTime() - start) / 1e9, Double.NaN, Double.NaN).write(settings.runDir(), conf);
      throw e;
    }
    new RunInfo(settings.runId(), block, resolved, "finished", started, java.time.Instant.now().toString(),
        summary.steps(), summary.seconds(), summary.lastLoss(), summary.lastValLoss()).write(settings.runDir(), conf);
    LOG.info(String.format(java.util.Locale.ROOT, "train: done in %.1f s; last loss %.4f, validation loss %.4f; run in %s",
        summary.seconds(), summary.lastLoss(), summary.lastValLoss(), runDir));
    return summary;
  }

  /** The token shards' manifest (vocabulary, row length). */
  static JsonNode manifest(String tokens, Configuration conf) throws IOException {
    Path manifest = new Path(tokens, Manifest.FILE_NAME);
    FileSystem fs = manifest.getFileSystem(conf);
    if (!fs.exists(manifest)) {
      throw new FileNotFoundException("train.tokens: " + tokens + " is not a data-prep output (no "
          + Manifest.FILE_NAME + "); run bin/oflab data-prep first");
    }
    try (InputStream in = fs.open(manifest)) {
      return new ObjectMapper().readTree(in);
    }
  }

  /** Writes the resolved model and train sections to {@code target}; returns the text. */
  private static String writeConfig(Config config, Path target, FileSystem fs) throws IOException {
    String text = List.of(TrainConfig.MODEL, TrainConfig.TRAIN).stream()
        .map(s -> s + " " + config.getConfig(s).root().render(ConfigRenderOptions.concise().setFormatted(true).setJson(false)))
        .reduce("", (a, b) -> a + b + "\n");
    fs.mkdirs(target.getParent());
    try (OutputStream out = fs.create(target, true)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return text;
  }
}
