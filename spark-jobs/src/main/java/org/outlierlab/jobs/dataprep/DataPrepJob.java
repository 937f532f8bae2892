package org.outlierlab.jobs.dataprep;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.outlierlab.dataprep.fs.WritableDirectory;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.outlierlab.dataprep.DataPrepSettings;
import org.outlierlab.dataprep.HadoopConf;
import org.outlierlab.dataprep.InputPlanner;
import org.outlierlab.dataprep.Manifest;
import org.outlierlab.dataprep.PartitionPlan;
import org.outlierlab.dataprep.PartitionProcessor;
import org.outlierlab.dataprep.PrepStats;
import org.outlierlab.dataprep.Splits;
import org.outlierlab.dataprep.fs.AtomicOutput;
import org.outlierlab.dataprep.tokenize.Tokenizer;
import org.outlierlab.dataprep.tokenize.TokenizerSpec;
import org.outlierlab.jobs.spark.JobDescription;
import org.outlierlab.jobs.spark.ProgressListener;
import org.outlierlab.jobs.spark.SparkSessions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data-prep job: plan the input files into partitions on the driver, let each task tokenise its files
 * and write its own shards into a staging directory, then check the bad-record budget, write the manifest and
 * publish the directory atomically.
 */
public final class DataPrepJob {
  private static final Logger LOG = LoggerFactory.getLogger(DataPrepJob.class);

  private DataPrepJob() {}

  /** Runs the job on a Spark of its own; returns what it published. */
  public static DataPrepResult run(DataPrepJobSettings settings) throws IOException {
    try (SparkSession spark = SparkSessions.open(settings.spark(), "data-prep")) {
      return run(spark, settings.prep(), settings.recorded());
    }
  }

  private static DataPrepResult run(SparkSession spark, DataPrepSettings s, Map<String, Object> resolvedConfig)
      throws IOException {
    long start = System.nanoTime();
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    TokenizerSpec spec = loadTokenizer(s, conf);
    Tokenizer tokenizer = spec.create(); // parse on the driver first: a bad file fails before any task
    InputPlanner.Plan plan = InputPlanner.plan(s, conf);
    if (plan.partitions().isEmpty()) {
      throw new FileNotFoundException("data_prep.input " + s.inputs() + " holds no input files");
    }
    Path out = new Path(s.out());
    WritableDirectory.require(out.getFileSystem(conf).makeQualified(out).getParent(), "data_prep.out = '" + s.out()
        + "'", conf);
    try (AtomicOutput output = AtomicOutput.directory(out, s.overwrite(), conf)) {
      long totalBytes = plan.partitions().stream().flatMap(p -> p.files().stream()).mapToLong(f -> f.length()).sum();
      LOG.info("data-prep: {} files, {} bytes in {} tasks; tokenizer {} (vocab {}, end-of-document id {})",
          plan.files(), totalBytes, plan.partitions().size(), spec.location(), tokenizer.vocabSize(),
          tokenizer.endOfDocumentId());

      PrepStats stats = tokenize(spark, s, spec, plan, output.staging().toString(), conf, totalBytes);
      stats.merge(plan.listingStats());
      checkBadRecords(stats, s);
      checkValidationSplit(stats, s);
      Manifest.write(Manifest.build(s, spec, tokenizer, stats, plan, resolvedConfig), output.staging(), conf);
      output.publish();
      Map<String, Long> sequences = new TreeMap<>();
      stats.splits.forEach((split, counts) -> sequences.put(split, counts.sequences));
      return new DataPrepResult(s.out(), stats.documents(), stats.tokens(), sequences, stats.badRecords,
          (System.nanoTime() - start) / 1e9, stats.tokenizeNanos / 1e9);
    }
  }

  private static PrepStats tokenize(SparkSession spark, DataPrepSettings s, TokenizerSpec spec,
      InputPlanner.Plan plan, String staging, Configuration conf, long totalBytes) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<TokenizerSpec> tokenizer = jsc.broadcast(spec);
    Broadcast<HadoopConf> hadoop = jsc.broadcast(new HadoopConf(conf));
    LongAccumulator bytesDone = spark.sparkContext().longAccumulator("data-prep bytes");
    LongAccumulator tokensDone = spark.sparkContext().longAccumulator("data-prep tokens");
    List<PartitionPlan> partitions = plan.partitions();
    ProgressListener progress = new ProgressListener("data-prep", partitions.size(),
        () -> totalBytes == 0 ? 1.0 : (double) bytesDone.value() / totalBytes,
        seconds -> String.format(Locale.ROOT, "%d tokens, %.0f tokens/s", tokensDone.value(), tokensDone.value() / seconds),
        System.err);
    spark.sparkContext().addSparkListener(progress);
    try (JobDescription described = JobDescription.of(spark.sparkContext(),
        String.format("data-prep: tokenise %d files (%d bytes) into %s", plan.files(), totalBytes, s.out()))) {
      List<PrepStats> results = jsc.parallelize(partitions, partitions.size()).map(p -> {
        String attempt = Long.toString(TaskContext.get().taskAttemptId());
        PrepStats st = PartitionProcessor.run(p, s, tokenizer.value(), staging, hadoop.value().get(), attempt);
        bytesDone.add(st.bytes);
        tokensDone.add(st.tokens());
        return st;
      }).collect();
      PrepStats total = new PrepStats();
      results.forEach(total::merge);
      return total;
    } finally {
      spark.sparkContext().removeSparkListener(progress);
    }
  }

  static TokenizerSpec loadTokenizer(DataPrepSettings s, Configuration conf) throws IOException {
    TokenizerSpec.Kind kind = TokenizerSpec.kindOf(s.tokenizer());
    if (kind == TokenizerSpec.Kind.BYTES) {
      return new TokenizerSpec(kind, "bytes", new byte[0], s.eodToken());
    }
    Path path = new Path(s.tokenizer());
    FileSystem fs = path.getFileSystem(conf);
    if (!fs.isFile(path)) {
      throw new FileNotFoundException("data_prep.tokenizer: file '" + s.tokenizer() + "' does not exist");
    }
    try (InputStream in = fs.open(path)) {
      return new TokenizerSpec(kind, fs.makeQualified(path).toString(), in.readAllBytes(), s.eodToken());
    }
  }

  private static void checkBadRecords(PrepStats stats, DataPrepSettings s) {
    long bad = stats.badTotal();
    long records = stats.documents() + bad;
    double fraction = records == 0 ? 0 : (double) bad / records;
    if (fraction > s.maxBadFraction()) {
      throw new BadInputException(String.format(Locale.ROOT,
          "%d of %d records are bad (%.2f%% > data_prep.max_bad_fraction = %.2f%%): %s. Nothing was written. "
              + "Check the inputs, or raise data_prep.max_bad_fraction to accept them.",
          bad, records, 100 * fraction, 100 * s.maxBadFraction(), stats.badRecords));
    }
  }

  /**
   * A hash split whose fraction is above 0 but drew no document (a small corpus): training would have no validation
   * loss, so the job fails before anything is written, naming the key and a fraction that would draw some.
   */
  private static void checkValidationSplit(PrepStats stats, DataPrepSettings s) {
    boolean listsFixTheSplit = s.format() == DataPrepSettings.Format.LANGUINI && !s.testList().isEmpty();
    long documents = stats.documents();
    long validation = stats.splits.containsKey(Splits.VALIDATION) ? stats.splits.get(Splits.VALIDATION).documents : 0;
    if (listsFixTheSplit || s.validationFraction() == 0 || documents < 2 || validation > 0) {
      return;
    }
    // twice the fraction, or about three documents' worth, whichever is more; at most half
    double suggested = Math.min(0.5, Math.max(2 * s.validationFraction(), Math.ceil(300.0 / documents) / 100));
    throw new BadInputException(String.format(Locale.ROOT,
        "data_prep.validation_fraction = %s drew no validation document from these %d documents, so training "
            + "would have no validation loss. Nothing was written. Raise it (%.2f would draw about %d), or set it "
            + "to 0 for no validation split.", s.validationFraction(), documents, suggested,
        Math.round(suggested * documents)));
  }

  /** Too many bad records to trust the output. */
  public static final class BadInputException extends RuntimeException {
    BadInputException(String message) {
      super(message);
    }
  }
}
