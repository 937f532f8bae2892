package org.outlierlab.jobs.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.outlierlab.dataprep.Manifest;
import org.outlierlab.dataprep.Splits;
import org.outlierlab.dataprep.shard.TokenShards;
import org.outlierlab.dataprep.fs.FileLock;
import org.outlierlab.dataprep.fs.WritableDirectory;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.spark.SparkSessions;
import org.outlierlab.model.ModelConfig;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.optim.Optimizer;
import org.outlierlab.model.run.Checkpoint;
import org.outlierlab.model.run.RunInfo;
import org.outlierlab.model.run.RunLayout;
import org.outlierlab.model.train.ShardStream;
import org.outlierlab.model.train.TrainSettings;
import org.outlierlab.model.train.TrainStep;
import org.outlierlab.model.train.Trainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The train job: trains the model on the token shards, data-parallel across Spark tasks by parameter averaging
 * ({@link ParameterAveraging}), and writes the run's tables from the driver. One worker gives exactly the
 * single-process {@link Trainer} result.
 */
public final class TrainJob {
  private static final Logger LOG = LoggerFactory.getLogger(TrainJob.class);

  private TrainJob() {}

  public static TrainResult run(TrainJobSettings job) throws IOException {
    Configuration conf = new Configuration();
    TrainSettings settings = job.run();
    Path runs = new Path(settings.runDir()).getParent();
    WritableDirectory.require(runs, "train.warehouse = '" + runs.getParent() + "'", conf);
    try (FileLock lock = lockRun(new RunLayout(settings.runDir()), settings.runId(), conf)) {
      return runLocked(job, conf);
    }
  }

  /** The run's lock, or a ConfigError naming the job that holds it and what to do. */
  private static FileLock lockRun(RunLayout files, String runId, Configuration conf) throws IOException {
    try {
      return FileLock.tryAcquire(files.lock(), "train " + runId, conf);
    } catch (FileLock.HeldException e) {
      throw new ConfigError("train.run_id: run " + runId + " is being trained by another job (" + e.holder()
          + "); wait for it to finish, or choose another train.run_id. A job that died leaves its lock " + files.lock()
          + ", taken over once its heartbeat is " + FileLock.STALE_AFTER.toSeconds() + " s old (at once on the host it "
          + "ran on)");
    }
  }

  private static TrainResult runLocked(TrainJobSettings job, Configuration conf) throws IOException {
    TrainSettings settings = onTheDriver(job.run(), conf);
    JsonNode manifest = Manifest.read(settings.tokensDir(), "train.tokens", conf);
    ModelConfig modelConfig = job.model().forData(manifest.get("vocab_size").asInt(), manifest.get("row_length").asInt());

    Path runDir = new Path(settings.runDir());
    RunLayout files = new RunLayout(settings.runDir());
    FileSystem fs = runDir.getFileSystem(conf);
    if (fs.exists(runDir) && !job.resume()) {
      throw new ConfigError("run " + settings.runId() + " already exists in " + runDir
          + "; pass --resume to continue it, or choose another train.run_id");
    }
    if (job.resume() && !fs.exists(runDir)) {
      throw new ConfigError("train.resume: there is no run " + settings.runId() + " in " + runDir + " to resume");
    }
    if (job.resume()) {
      var checkpoints = Checkpoint.files(files.checkpoints(), conf); // by name: the latest is read when resuming
      if (!checkpoints.isEmpty() && checkpoints.lastKey() >= settings.steps()) {
        return TrainResult.alreadyFinished(settings.runId(), settings.runDir(), settings.steps());
      }
    }
    TrainedOn.recordOrCheck(manifest, settings.tokensDir(), settings.runId(), files, job.resume(), fs);
    LOG.info("train: driver's BLAS: {}", Nd4jBackend.require(job.blasKernels()).describe());
    try (SparkSession spark = SparkSessions.open(job.spark(), "train " + settings.runId())) {
      JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      int workers = job.workers() > 0 ? job.workers() : autoWorkers(sc);
      // here, before any worker starts, rather than in every executor
      ShardStream.requireOneStep(TokenShards.list(settings.tokensDir(), Splits.TRAIN, conf), settings.batchSize(),
          workers);
      if (settings.threads() == 0) {
        settings = settings.toBuilder().threads(autoThreads(sc, workers)).build();
      }
      // what "auto" and "" became, so that config.conf (and the runs table) says exactly what ran
      Config actual = job.recorded().withValue("model.seq_len", ConfigValueFactory.fromAnyRef(modelConfig.seqLen()))
          .withValue("train.workers", ConfigValueFactory.fromAnyRef(workers))
          .withValue("train.threads", ConfigValueFactory.fromAnyRef(settings.threads()))
          .withValue("train.run_id", ConfigValueFactory.fromAnyRef(settings.runId()));
      String resolved = writeConfig(actual, files.config(), fs);
      TransformerLM model = new TransformerLM(modelConfig, job.dtype(), settings.seed());
      model.useThreads(settings.threads()); // the driver's evaluations between rounds
      Optimizer optimizer = job.optimizer().create();
      long params = model.parameters().values().stream().mapToLong(a -> a.length()).sum();
      String how = workers == 1 ? "one synchronous step on the whole batch"
          : "each worker's local steps averaged every " + job.averagingFrequency() + " steps";
      LOG.info("train: run {} in {}: {} {} parameters, {} steps of {} workers x {} x {} tokens ({} threads each), {}",
          settings.runId(), runDir, job.block(), params, settings.steps(), workers, settings.batchSize(),
          modelConfig.seqLen(), settings.threads(), how);
      String costWarning = job.optimizer().vocabularyCostWarning(modelConfig);
      if (costWarning != null) {
        LOG.warn("train: {}", costWarning);
      }
      var spec = new ParameterAveraging.WorkerSpec(java.util.UUID.randomUUID().toString(), modelConfig,
          job.dtype().name(), settings, job.optimizer(), workers, job.blasKernels());
      ParameterAveraging engine = new ParameterAveraging(sc, spec, job.averagingFrequency(), model, optimizer);
      RunInfo.Builder info = new RunInfo.Builder(settings.runId(), job.block(), resolved, Instant.now().toString(),
          workers, emptyAsNull(job.grid()), emptyAsNull(job.point()));
      return train(settings, info, job.resume(), conf, model, optimizer, engine);
    }
  }

  /**
   * The settings with train.tokens resolved where the user gave it: executors read the shards themselves, and on a
   * cluster each one runs in its own working directory, where a relative path names nothing.
   */
  private static TrainSettings onTheDriver(TrainSettings settings, Configuration conf) throws IOException {
    Path tokens = new Path(settings.tokensDir());
    return settings.toBuilder().tokensDir(tokens.getFileSystem(conf).makeQualified(tokens).toString()).build();
  }

  private static String emptyAsNull(String s) {
    return s.isEmpty() ? null : s;
  }

  private static TrainResult train(TrainSettings settings, RunInfo.Builder info, boolean resume,
      Configuration conf, TransformerLM model, Optimizer optimizer, ParameterAveraging engine) throws IOException {
    long start = System.nanoTime();
    info.running().write(settings.runDir(), conf);
    Trainer.Summary summary;
    try {
      engine.startWorkers().forEach(w -> System.err.println("[train] " + w));
      info.backend(engine.backends(), engine.blas());
      summary = new Trainer(model, optimizer, settings, conf, line -> System.err.println("[train] " + line))
          .run(resume, engine);
    } catch (IOException | RuntimeException e) {
      String status = e instanceof TrainStep.DivergedException ? "diverged" : "failed";
      info.ended(status, 0, (System.nanoTime() - start) / 1e9, Double.NaN, Double.NaN, engine.rounds(),
              engine.averagingOverheadSeconds())
          .write(settings.runDir(), conf);
      throw e;
    }
    info.ended(summary.outliers() ? "outliers" : "finished", summary.steps(), summary.seconds(), summary.lastLoss(),
        summary.lastValLoss(), engine.rounds(), engine.averagingOverheadSeconds()).write(settings.runDir(), conf);
    return new TrainResult(settings.runId(), settings.runDir(), summary.firstStep(), summary.steps(), summary.seconds(),
        engine.rounds(), engine.averagingOverheadSeconds(), engine.overheadBreakdown(), summary.lastLoss(),
        summary.lastValLoss(), summary.outliers());
  }

  /** One worker per executor on a cluster (spark.executor.instances), one per core on the embedded local[*]. */
  private static int autoWorkers(JavaSparkContext sc) {
    String instances = sc.getConf().get("spark.executor.instances", "");
    return instances.isEmpty() ? sc.defaultParallelism() : Integer.parseInt(instances);
  }

  /**
   * Threads per worker: one on a GPU (the device parallelises each op); on a cluster, the cores Spark reserves for
   * each task (spark.task.cpus, default 1); on the embedded local[N], the N cores shared among the workers.
   */
  private static int autoThreads(JavaSparkContext sc, int workers) {
    if (Nd4jBackend.onGpu()) {
      return 1;
    }
    if (sc.isLocal()) {
      return Math.max(1, sc.defaultParallelism() / workers);
    }
    return sc.getConf().getInt("spark.task.cpus", 1);
  }

  /** Writes the resolved model and train sections to {@code target}; returns the text. */
  private static String writeConfig(Config config, Path target, FileSystem fs) throws IOException {
    String text = List.of(TrainConfig.MODEL, TrainConfig.TRAIN).stream()
        .map(s -> config.getConfig(s).atKey(s).root().render(ConfigRenderOptions.defaults().setOriginComments(false)
            .setComments(false).setJson(false).setFormatted(true)))
        .reduce("", (a, b) -> a + b + "\n");
    fs.mkdirs(target.getParent());
    try (OutputStream out = fs.create(target, true)) {
      out.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return text;
  }
}
