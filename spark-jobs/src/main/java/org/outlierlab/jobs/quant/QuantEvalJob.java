package org.outlierlab.jobs.quant;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.outlierlab.dataprep.fs.WritableDirectory;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.outlierlab.dataprep.Splits;
import org.outlierlab.dataprep.shard.TokenShards;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.spark.JobDescription;
import org.outlierlab.jobs.spark.SparkSessions;
import org.outlierlab.jobs.sql.WarehouseViews;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.graph.SiteTransforms;
import org.outlierlab.model.quant.Calibration;
import org.outlierlab.model.quant.Protocol;
import org.outlierlab.model.quant.QuantError;
import org.outlierlab.model.quant.QuantPlan;
import org.outlierlab.model.quant.Quantizer;
import org.outlierlab.model.train.TrainData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The quant-eval job: for each checkpoint, the driver calibrates every protocol's static ranges on the run's first
 * training batches (the full-precision model's activations; {@link Calibration}) and measures each quantised site's
 * error on the first evaluation batch; the evaluation batches are then spread over Spark tasks, each of which
 * builds the full-precision model and one fake-quantised model per protocol from the same checkpoint and plans, and
 * returns every batch's loss sums. The driver adds them in batch order, so the perplexities do not depend on how the
 * batches were split. Writes quant_eval and quant_error, one partition per (run, step), replaced on rerun.
 */
public final class QuantEvalJob {
  private static final Logger LOG = LoggerFactory.getLogger(QuantEvalJob.class);

  private QuantEvalJob() {}

  /** A task's share: batches {@code first}, {@code first + 1}, … of the evaluation rows. */
  record Chunk(int first, int[][][] batches) implements Serializable {}

  /** One batch's loss sums: full precision, then one per protocol, in the settings' order. */
  record BatchLoss(int batch, double fp, double[] quantised) implements Serializable {}

  public static QuantEvalResult run(QuantEvalSettings s) throws IOException {
    Configuration conf = SparkSessions.hadoopConf(s.spark());
    WritableDirectory.require(new org.apache.hadoop.fs.Path(s.warehouse()), "quant.warehouse = '" + s.warehouse() + "'",
        conf);
    List<QuantTarget> targets = QuantTarget.resolve(s, conf);
    LOG.info("quant-eval: {} checkpoints of {} runs, protocols {}", targets.size(),
        targets.stream().map(QuantTarget::runId).distinct().count(),
        s.protocols().stream().map(Protocol::name).toList());
    List<Row> evalRows = new ArrayList<>();
    List<Row> errorRows = new ArrayList<>();
    List<QuantEvalResult.Perplexity> perplexities = new ArrayList<>();
    try (SparkSession spark = SparkSessions.open(s.spark(), "quant-eval")) {
      JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      for (QuantTarget t : targets) {
        evaluate(sc, s, t, conf, evalRows, errorRows, perplexities);
      }
      spark.conf().set("spark.sql.sources.partitionOverwriteMode", "dynamic");
      String evalTable = s.warehouse() + "/" + QuantTables.EVAL;
      String errorTable = s.warehouse() + "/" + QuantTables.ERROR;
      write(spark, evalRows, QuantTables.EVAL_SCHEMA, evalTable);
      write(spark, errorRows, QuantTables.ERROR_SCHEMA, errorTable);
      WarehouseViews.rewrite(s.warehouse(), "quant.warehouse", conf);
      return new QuantEvalResult(perplexities, evalTable, errorTable);
    }
  }

  private static void evaluate(JavaSparkContext sc, QuantEvalSettings s, QuantTarget t, Configuration conf,
      List<Row> evalRows, List<Row> errorRows, List<QuantEvalResult.Perplexity> perplexities) throws IOException {
    int seqLen = t.model().seqLen();
    long available = TokenShards.list(t.evalTokens(), s.split(), conf).stream().mapToLong(TokenShards.Shard::rows).sum();
    int batches = s.batchesOf(available);
    if (batches == 0) {
      throw new ConfigError("quant.batch_size = " + s.batchSize() + ": the " + s.split() + " split of "
          + t.evalTokens() + " has only " + available + " rows, not one batch; lower quant.batch_size");
    }
    List<int[][]> eval = batches(TokenShards.firstRows(t.evalTokens(), s.split(), (long) batches * s.batchSize(),
        conf), s.batchSize());
    int calibrationBatches = s.protocols().stream().mapToInt(p -> p.activations().calibrationBatches()).max()
        .orElse(0);
    List<int[][]> calibration = batches(TokenShards.firstRows(t.trainTokens(), Splits.TRAIN,
        (long) calibrationBatches * s.batchSize(), conf), s.batchSize());
    if (calibration.size() < calibrationBatches) {
      throw new ConfigError("calibration_batches = " + calibrationBatches + " batches of " + s.batchSize()
          + ": the training split of " + t.trainTokens() + " has only " + calibration.size() + " full batches");
    }
    String where = "run " + t.runId() + " step " + t.step();
    long start = System.nanoTime();
    TransformerLM fp = t.load(SiteTransforms.NONE, conf);
    List<QuantPlan> plans = Calibration.plans(fp, s.protocols(),
        calibration.stream().map(rows -> TrainData.slice(rows, 0, seqLen)).toList());
    errorRows.addAll(errors(fp, plans, t, TrainData.slice(eval.get(0), 0, seqLen)));
    LOG.info(String.format(Locale.ROOT, "quant-eval: %s: calibrated %d protocols on %d training batches and measured"
        + " %d quantised tensors in %.1f s", where, plans.size(), calibrationBatches,
        plans.stream().mapToInt(p -> p.bySite().size()).sum(), (System.nanoTime() - start) / 1e9));

    int tasks = Math.min(batches, s.tasks() > 0 ? s.tasks() : sc.defaultParallelism());
    List<Chunk> chunks = new ArrayList<>();
    for (int k = 0; k < tasks; k++) {
      int from = (int) ((long) batches * k / tasks);
      int to = (int) ((long) batches * (k + 1) / tasks);
      chunks.add(new Chunk(from, eval.subList(from, to).toArray(new int[0][][])));
    }
    long tokens = (long) batches * s.batchSize() * seqLen;
    start = System.nanoTime();
    List<BatchLoss> losses;
    try (JobDescription described = JobDescription.of(sc.sc(), "quant-eval: " + where + ", " + batches
        + " batches in full precision and under " + plans.size() + " protocols")) {
      losses = new ArrayList<>(sc.parallelize(chunks, chunks.size())
          .flatMap(chunk -> evaluateChunk(t, plans, chunk).iterator()).collect());
    }
    losses.sort(Comparator.comparingInt(BatchLoss::batch));
    double seconds = (System.nanoTime() - start) / 1e9;
    LOG.info(String.format(Locale.ROOT, "quant-eval: %s: evaluated %d tokens %d times in %.1f s (%.0f tokens/s per"
        + " pass, %d tasks)", where, tokens, plans.size() + 1, seconds, tokens * (plans.size() + 1) / seconds, tasks));
    double fpSum = 0;
    double[] qSums = new double[plans.size()];
    for (BatchLoss b : losses) { // in batch order: the same sums however the batches were split
      fpSum += b.fp();
      for (int i = 0; i < qSums.length; i++) {
        qSums[i] += b.quantised()[i];
      }
    }
    for (int i = 0; i < plans.size(); i++) {
      Protocol p = plans.get(i).protocol();
      evalRows.add(QuantTables.evalRow(t, p, plans.get(i).bySite().size(), batches, tokens, fpSum / tokens,
          qSums[i] / tokens));
      perplexities.add(new QuantEvalResult.Perplexity(t.runId(), t.step(), p.name(), tokens, Math.exp(fpSum / tokens),
          Math.exp(qSums[i] / tokens)));
    }
  }

  /** On an executor: the chunk's batches through the full-precision model and each plan's quantised one. */
  private static List<BatchLoss> evaluateChunk(QuantTarget t, List<QuantPlan> plans, Chunk chunk) throws IOException {
    Configuration conf = new Configuration();
    int seqLen = t.model().seqLen();
    var parameters = t.parameters(conf);
    TransformerLM fp = t.model(parameters, SiteTransforms.NONE);
    List<TransformerLM> quantised = new ArrayList<>();
    for (QuantPlan plan : plans) {
      quantised.add(t.model(parameters, plan.transforms()));
    }
    List<BatchLoss> out = new ArrayList<>();
    for (int b = 0; b < chunk.batches().length; b++) {
      int[][] inputs = TrainData.slice(chunk.batches()[b], 0, seqLen);
      int[][] targets = TrainData.slice(chunk.batches()[b], 1, seqLen);
      double[] q = new double[quantised.size()];
      for (int i = 0; i < q.length; i++) {
        q[i] = quantised.get(i).lossSum(inputs, targets);
      }
      out.add(new BatchLoss(chunk.first() + b, fp.lossSum(inputs, targets), q));
    }
    return out;
  }

  /** Each plan's sites' errors on the full-precision tensors of one batch. */
  private static List<Row> errors(TransformerLM fp, List<QuantPlan> plans, QuantTarget t, int[][] inputs) {
    Set<String> sites = new LinkedHashSet<>();
    plans.forEach(p -> sites.addAll(p.bySite().keySet()));
    Map<String, QuantError.Tensor> tensors = new LinkedHashMap<>();
    fp.activations(inputs, sites).forEach((site, x) -> tensors.put(site, new QuantError.Tensor(x)));
    List<Row> rows = new ArrayList<>();
    for (QuantPlan plan : plans) {
      for (Map.Entry<String, Quantizer> e : plan.bySite().entrySet()) {
        String site = e.getKey();
        rows.add(QuantTables.errorRow(t, plan.protocol(), site, fp.site(site).weight(), e.getValue(),
            QuantError.measure(e.getValue(), tensors.get(site))));
      }
    }
    return rows;
  }

  private static List<int[][]> batches(int[][] rows, int batchSize) {
    List<int[][]> out = new ArrayList<>();
    for (int from = 0; from + batchSize <= rows.length; from += batchSize) {
      out.add(java.util.Arrays.copyOfRange(rows, from, from + batchSize));
    }
    return out;
  }

  private static void write(SparkSession spark, List<Row> rows, StructType schema, String table) {
    try (JobDescription described = JobDescription.of(spark.sparkContext(), "quant-eval: write " + rows.size()
        + " rows to " + table)) {
      spark.createDataFrame(rows, schema).repartition(1).write().mode(SaveMode.Overwrite)
          .partitionBy("run_id", "step").parquet(table);
    }
    LOG.info("quant-eval: wrote {} rows to {}", rows.size(), table);
  }
}
