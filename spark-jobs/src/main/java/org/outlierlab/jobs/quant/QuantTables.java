package org.outlierlab.jobs.quant;

import java.util.Locale;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.outlierlab.model.graph.Site;
import org.outlierlab.model.quant.Protocol;
import org.outlierlab.model.quant.QuantError;
import org.outlierlab.model.quant.Quantizer;

/**
 * The quant-eval job's two tables: {@code quant_eval}, one row per (run, step, protocol) with the full-precision and
 * quantised loss and perplexity, and {@code quant_error}, one row per quantised site. Both are partitioned by run_id
 * and step, the partition columns last as Spark writes them.
 */
public final class QuantTables {
  public static final String EVAL = "quant_eval";
  public static final String ERROR = "quant_error";

  public static final StructType EVAL_SCHEMA = new StructType()
      .add("protocol", DataTypes.StringType, false)
      .add("weight_bits", DataTypes.IntegerType, false)
      .add("activation_bits", DataTypes.IntegerType, false)
      .add("weight_granularity", DataTypes.StringType, false)
      .add("weight_range", DataTypes.StringType, false)
      .add("activation_granularity", DataTypes.StringType, false)
      .add("activation_symmetric", DataTypes.BooleanType, false)
      .add("calibration_batches", DataTypes.IntegerType, false)
      .add("momentum", DataTypes.DoubleType, false)
      .add("percentile", DataTypes.DoubleType, false)
      .add("quantised_sites", DataTypes.IntegerType, false)
      .add("eval_batches", DataTypes.IntegerType, false)
      .add("tokens", DataTypes.LongType, false)
      .add("fp_loss", DataTypes.DoubleType, false)
      .add("fp_ppl", DataTypes.DoubleType, false)
      .add("q_loss", DataTypes.DoubleType, false)
      .add("q_ppl", DataTypes.DoubleType, false)
      .add("delta_ppl", DataTypes.DoubleType, false)
      .add("run_id", DataTypes.StringType, false)
      .add("step", DataTypes.LongType, false);

  public static final StructType ERROR_SCHEMA = new StructType()
      .add("protocol", DataTypes.StringType, false)
      .add("layer", DataTypes.IntegerType, false)
      .add("point", DataTypes.StringType, false)
      .add("site", DataTypes.StringType, false)
      .add("weight", DataTypes.BooleanType, false)
      .add("granularity", DataTypes.StringType, false)
      .add("bits", DataTypes.IntegerType, false)
      .add("scale", DataTypes.DoubleType, false)
      .add("zero_point", DataTypes.DoubleType, false)
      .add("sqnr_db", DataTypes.DoubleType, true)
      .add("rel_error", DataTypes.DoubleType, false)
      .add("clipped_fraction", DataTypes.DoubleType, false)
      .add("max_abs", DataTypes.DoubleType, false)
      .add("median_abs", DataTypes.DoubleType, false)
      .add("run_id", DataTypes.StringType, false)
      .add("step", DataTypes.LongType, false);

  private QuantTables() {}

  /** The columns of a view over the table: its partition columns first, step as the number it is. */
  public static String viewColumns(StructType schema) {
    StringBuilder columns = new StringBuilder("run_id, CAST(step AS BIGINT) AS step");
    for (String name : schema.fieldNames()) {
      if (!name.equals("run_id") && !name.equals("step")) {
        columns.append(", ").append(name);
      }
    }
    return columns.toString();
  }

  static Row evalRow(QuantTarget t, Protocol p, int sites, int batches, long tokens, double fpLoss, double qLoss) {
    Protocol.Activations a = p.activations();
    return RowFactory.create(p.name(), p.weights().bits(), a.bits(), name(p.weights().granularity()),
        name(p.weights().range()), name(a.granularity()), a.symmetric(), a.calibrationBatches(), a.momentum(),
        a.percentile(), sites, batches, tokens, fpLoss, Math.exp(fpLoss), qLoss, Math.exp(qLoss),
        Math.exp(qLoss) - Math.exp(fpLoss), t.runId(), t.step());
  }

  static Row errorRow(QuantTarget t, Protocol p, String site, boolean weight, Quantizer q, QuantError e) {
    Protocol.Granularity granularity = weight ? p.weights().granularity() : p.activations().granularity();
    return RowFactory.create(p.name(), Site.layer(site, t.model().nLayers()), Site.kind(site), site, weight,
        name(granularity), q.grid().bits(), e.scale(), e.zeroPoint(), e.sqnrDb(), e.relError(), e.clippedFraction(),
        e.maxAbs(), e.medianAbs(), t.runId(), t.step());
  }

  private static String name(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }
}
