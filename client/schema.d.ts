/**
 * Generated from docs/openapi.json by openapi-typescript (npm run contract): do not edit.
 * The hand-written client (client/index.ts) is built on these types.
 */
export interface paths {
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness, or readiness with deep=true
         * @description Without `deep`: liveness, touching nothing. With `deep=true`: readiness, asking DynamoDB, S3 and Step Functions, each within a second.
         */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document */
        get: operations["getOpenApiDocument"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List jobs, newest first */
        get: operations["listJobs"];
        put?: never;
        /**
         * Create a training job
         * @description Trains asynchronously: poll GET /jobs/{jobId} or subscribe over the WebSocket API.
         */
        post: operations["createJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/{jobId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A job */
        get: operations["getJob"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/{jobId}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A job's history, oldest first
         * @description Every status change and retried training attempt, recorded from the jobs stream: the latest may appear a moment after the change.
         */
        get: operations["listJobEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/jobs/{jobId}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Cancel a QUEUED or RUNNING job */
        post: operations["cancelJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List models */
        get: operations["listModels"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/models/{modelId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A model */
        get: operations["getModel"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/models/{modelId}/predict": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Predict with a TRAINED model */
        post: operations["predict"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/datasets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create a dataset and its upload
         * @description Declare the file size in `sizeBytes`. Up to the multipart threshold (5 GiB by default), or without `sizeBytes`, the answer is a presigned POST (`uploadMethod: POST`): upload the CSV to `uploadUrl` with `fields`. Above it, a multipart upload (`uploadMethod: MULTIPART`): PUT each part to its URL, then POST /datasets/{datasetId}/complete with every ETag. Then poll GET /datasets/{datasetId} until READY.
         */
        post: operations["createDataset"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/datasets/{datasetId}/parts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Resume a multipart upload
         * @description The parts S3 holds already (with their ETags) and fresh presigned URLs for the others: an interrupted upload goes on without sending a part twice.
         */
        get: operations["getUploadParts"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/datasets/{datasetId}/complete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Complete a multipart upload
         * @description Every part, 1..partCount in order, with the ETag its PUT answered. The object is then validated like a POST upload: poll GET /datasets/{datasetId} until READY.
         */
        post: operations["completeUpload"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/datasets/{datasetId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A dataset */
        get: operations["getDataset"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * @description Exactly one of `data` (inline points, at most 10,000, every value a finite number) or `datasetId` + `target`. `alpha` is not allowed for LINEAR; for RIDGE and LASSO it defaults to 1.0, and it (like each value of `alphas`) is from 1e-100 to 1e+100. With `datasetId`, `target` is a number column and `features` picks the columns the model uses: number and category columns (a category is one-hot, its first level the reference, as R's treatment contrasts), distinct, not the target; default: every other number and category column, in header order. `level` (LINEAR only, between 0 and 1, default 0.95): the confidence level of the model's coefficient table. `missing`: "drop" (default) leaves out the rows with a missing value in the target or a feature, as R's na.omit; "error" refuses the job (400) when those columns have any. `alphas` (instead of `alpha`, at most 100 values) fits one model per value in one job: the job lists them in `modelIds`.
         * @example {
         *       "kind": "RIDGE",
         *       "alpha": 0.5,
         *       "data": [
         *         {
         *           "x": [
         *             0,
         *             1
         *           ],
         *           "y": 1
         *         },
         *         {
         *           "x": [
         *             1,
         *             0
         *           ],
         *           "y": 2
         *         },
         *         {
         *           "x": [
         *             2,
         *             2
         *           ],
         *           "y": 4
         *         }
         *       ]
         *     }
         */
        CreateJobRequest: {
            /** @enum {string} */
            kind: "LINEAR" | "RIDGE" | "LASSO";
            alpha?: number;
            data?: {
                x: number | number[];
                y: number;
            }[];
            datasetId?: string;
            target?: string;
            features?: string[];
            /** @enum {string} */
            missing?: "drop" | "error";
            level?: number;
            alphas?: number[];
            /** @default true */
            fitIntercept?: boolean;
            name?: string;
        };
        /**
         * @description a job id (26-character ULID)
         * @example 01JH5Z3V8Q6K9W2X4Y7Z0A1B2C
         */
        JobId: string;
        /**
         * @description a model id (26-character ULID)
         * @example 01JH5Z3V8Q6K9W2X4Y7Z0A1B2D
         */
        ModelId: string;
        /**
         * @description Exactly one of `x` (one input: a number for a one-feature model, or an array, one value per coefficient), `inputs` (at most 10,000 of them), or `rows` (at most 10,000 objects by column name, e.g. `{"Sepal.Width": 3, "Species": "setosa"}`: a number for a number column, a level for a category; the model's `columns` and `levels` say which; other keys are ignored). A missing column, an unknown level or a value of the wrong type is a 400 VALIDATION_ERROR naming it, as is an input whose prediction overflows double precision.
         * @example {
         *       "x": [
         *         1.5,
         *         0.5
         *       ]
         *     }
         */
        PredictRequest: {
            x?: number | number[];
            inputs?: number[][];
            rows?: {
                [key: string]: number | string;
            }[];
        };
        /**
         * @description a dataset id (26-character ULID)
         * @example 01JH5Z3V8Q6K9W2X4Y7Z0A1B2E
         */
        DatasetId: string;
        Health: {
            /** @constant */
            status: "ok";
            version: string;
        };
        /** @description GET /health?deep=true: every dependency answered within a second */
        Readiness: {
            /** @constant */
            status: "ready";
            version: string;
            checks: {
                /** @constant */
                dynamodb: "ok";
                /** @constant */
                s3: "ok";
                /** @constant */
                stepfunctions: "ok";
            };
        };
        BadRequestError: {
            error: {
                /** @enum {string} */
                code: "BAD_REQUEST";
                message: string;
                /** @description VALIDATION_ERROR: every failing field */
                details?: components["schemas"]["FieldIssue"][];
            };
        };
        /** @description one failing field */
        FieldIssue: {
            path: string;
            message: string;
        };
        NotFoundError: {
            error: {
                /** @enum {string} */
                code: "NOT_FOUND";
                message: string;
                /** @description VALIDATION_ERROR: every failing field */
                details?: components["schemas"]["FieldIssue"][];
            };
        };
        RateLimitedError: {
            error: {
                /** @enum {string} */
                code: "RATE_LIMITED";
                message: string;
                /** @description VALIDATION_ERROR: every failing field */
                details?: components["schemas"]["FieldIssue"][];
            };
        };
        HeadersTooLargeError: {
            error: {
                /** @enum {string} */
                code: "REQUEST_HEADER_FIELDS_TOO_LARGE";
                message: string;
                /** @description VALIDATION_ERROR: every failing field */
                details?: components["schemas"]["FieldIssue"][];
            };
        };
        InternalError: {
            error: {
                /** @enum {string} */
                code: "INTERNAL_ERROR";
                message: string;
                /** @description VALIDATION_ERROR: every failing field */
                details?: components["schemas"]["FieldIssue"][];
            };
        };
        BadGatewayError: {
            error: {
                /** @enum {string} */
                code: "BAD_GATEWAY";
                message: string;
                /** @description VALIDATION_ERROR: every failing field */
                details?: components["schemas"]["FieldIssue"][];
            };
        };
        GatewayTimeoutError: {
            error: {
                /** @enum {string} */
                code: "INTEGRATION_TIMEOUT" | "INTEGRATION_FAILURE";
                message: string;
                /** @description VALIDATION_ERROR: every failing field */
                details?: components["schemas"]["FieldIssue"][];
            };
        };
        /** @description Every error: a stable UPPER_SNAKE code, a message for humans, and for VALIDATION_ERROR the failing fields */
        Error: {
            error: {
                code: string;
                message: string;
                /** @description VALIDATION_ERROR: every failing field */
                details?: components["schemas"]["FieldIssue"][];
            };
        };
        ServiceUnavailableError: {
            error: {
                /** @enum {string} */
                code: "SERVICE_UNAVAILABLE";
                message: string;
                /** @description VALIDATION_ERROR: every failing field */
                details?: components["schemas"]["FieldIssue"][];
            };
        };
        /**
         * @description A training job. GET /jobs/{jobId} and the WebSocket `job` message carry exactly this.
         * @example {
         *       "jobId": "01JH5Z3V8Q6K9W2X4Y7Z0A1B2C",
         *       "modelId": "01JH5Z3V8Q6K9W2X4Y7Z0A1B2D",
         *       "status": "COMPLETED",
         *       "kind": "RIDGE",
         *       "alpha": 0.5,
         *       "fitIntercept": true,
         *       "name": "houses",
         *       "progress": 1,
         *       "createdAt": "2026-11-30T12:00:00.000Z",
         *       "startedAt": "2026-11-30T12:00:00.400Z",
         *       "finishedAt": "2026-11-30T12:00:01.100Z",
         *       "error": null,
         *       "attempts": 1,
         *       "datasetId": null,
         *       "alphas": null,
         *       "modelIds": [
         *         "01JH5Z3V8Q6K9W2X4Y7Z0A1B2D"
         *       ],
         *       "version": 4
         *     }
         */
        Job: {
            jobId: components["schemas"]["JobId"];
            modelId: components["schemas"]["ModelId"];
            status: components["schemas"]["JobStatus"];
            kind: components["schemas"]["ModelKind"];
            /** @description null for LINEAR */
            alpha: number | null;
            fitIntercept: boolean;
            name: string | null;
            /** @description fraction of the training data read; only grows */
            progress: number;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            createdAt: string;
            startedAt: string | null;
            finishedAt: string | null;
            error: components["schemas"]["JobError"] | null;
            /** @description training attempts made (a transient failure is retried up to 3 times) */
            attempts: number;
            /** @description the dataset trained on; null for inline data */
            datasetId: components["schemas"]["DatasetId"] | null;
            /** @description the regularisation path asked for (`alphas` in the request), or null for a job of one alpha */
            alphas: number[] | null;
            /** @description every model of the job, in the order of `alphas` (`[modelId]` for one alpha; `modelId` is the first). The models past the first exist once the job is COMPLETED. */
            modelIds: components["schemas"]["ModelId"][];
            /** @description 1 at creation, higher with every change: of two states of a job (REST or WebSocket), the one with the higher version is newer */
            version: number;
        };
        /**
         * @description QUEUED -> RUNNING -> COMPLETED | FAILED | CANCELLED (QUEUED may also go straight to FAILED or CANCELLED); never backwards
         * @enum {string}
         */
        JobStatus: "QUEUED" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELLED";
        /**
         * @description ordinary least squares, ridge (L2) or lasso (L1), with scikit-learn objectives
         * @enum {string}
         */
        ModelKind: "LINEAR" | "RIDGE" | "LASSO";
        /** @description why the job FAILED: INSUFFICIENT_DATA, NUMERIC_OVERFLOW, INVALID_DATA, RANK_DEFICIENT (a LINEAR dataset job whose design has columns that are linear combinations of the others, named), DATASET_NOT_READY, TRAINING_ERROR, TRAINING_TIMEOUT, WORKFLOW_START_FAILED */
        JobError: {
            code: string;
            message: string;
        };
        InvalidBodyError: {
            error: {
                /** @enum {string} */
                code: "INVALID_JSON" | "VALIDATION_ERROR" | "BAD_REQUEST";
                message: string;
                /** @description VALIDATION_ERROR: every failing field */
                details?: components["schemas"]["FieldIssue"][];
            };
        };
        UnauthorizedError: {
            error: {
                /** @enum {string} */
                code: "UNAUTHORIZED";
                message: string;
                /** @description VALIDATION_ERROR: every failing field */
                details?: components["schemas"]["FieldIssue"][];
            };
        };
        PayloadTooLargeError: {
            error: {
                /** @enum {string} */
                code: "PAYLOAD_TOO_LARGE";
                message: string;
                /** @description VALIDATION_ERROR: every failing field */
                details?: components["schemas"]["FieldIssue"][];
            };
        };
        JobPage: {
            items: components["schemas"]["Job"][];
            /** @description pass as `nextToken` for the next page; null on the last */
            nextToken: string | null;
        };
        InvalidQueryError: {
            error: {
                /** @enum {string} */
                code: "VALIDATION_ERROR" | "BAD_REQUEST";
                message: string;
                /** @description VALIDATION_ERROR: every failing field */
                details?: components["schemas"]["FieldIssue"][];
            };
        };
        JobEventPage: {
            items: components["schemas"]["JobEvent"][];
            /** @description pass as `nextToken` for the next page; null on the last */
            nextToken: string | null;
        };
        /** @description One entry of a job's history: a status change or a retried training attempt */
        JobEvent: {
            /** @enum {string} */
            type: "CREATED" | "STATUS_CHANGED" | "RETRIED";
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            at: string;
            /** @description null for CREATED */
            from: ("QUEUED" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELLED") | null;
            /** @enum {string} */
            to: "QUEUED" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELLED";
            /** @description the training attempt the job was on (0 before the first) */
            attempt: number;
            error: {
                code: string;
                message: string;
            } | null;
            progress: number;
        };
        ModelPage: {
            items: components["schemas"]["Model"][];
            nextToken: string | null;
        };
        /**
         * @example {
         *       "modelId": "01JH5Z3V8Q6K9W2X4Y7Z0A1B2D",
         *       "jobId": "01JH5Z3V8Q6K9W2X4Y7Z0A1B2C",
         *       "status": "TRAINED",
         *       "kind": "RIDGE",
         *       "alpha": 0.5,
         *       "fitIntercept": true,
         *       "coefficients": [
         *         1.2,
         *         -0.4
         *       ],
         *       "intercept": 0.7,
         *       "features": [
         *         "size",
         *         "rooms"
         *       ],
         *       "columns": [
         *         "size",
         *         "rooms"
         *       ],
         *       "levels": {},
         *       "rowsDropped": 0,
         *       "summary": null,
         *       "metrics": {
         *         "n": 4,
         *         "r2": 0.98,
         *         "rmse": 0.21
         *       },
         *       "createdAt": "2026-11-30T12:00:00.000Z",
         *       "fittedAt": "2026-11-30T12:00:01.100Z"
         *     }
         */
        Model: {
            modelId: components["schemas"]["ModelId"];
            jobId: components["schemas"]["JobId"];
            status: components["schemas"]["ModelStatus"];
            kind: components["schemas"]["ModelKind"];
            alpha: number | null;
            fitIntercept: boolean;
            /** @description one per feature, in `features` order; empty until TRAINED */
            coefficients: number[];
            intercept: number | null;
            /** @description one name per coefficient: x0, x1, … for inline data; for a dataset, each number column's name, and for a category column one name per level but the first, column + level, as R writes them (Speciesversicolor) */
            features: string[];
            /** @description the dataset columns the model reads, in order (a prediction by `rows` names them); the features for inline data */
            columns: string[];
            /** @description each category column with its levels, the reference first */
            levels: {
                [key: string]: string[];
            };
            /** @description rows left out for a missing value in the target or a feature; null until TRAINED */
            rowsDropped: number | null;
            summary: components["schemas"]["ModelSummary"] | null;
            /** @description on the training data */
            metrics: {
                n: number;
                r2: number;
                rmse: number;
            } | null;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            createdAt: string;
            fittedAt: string | null;
        };
        /** @enum {string} */
        ModelStatus: "TRAINING" | "TRAINED" | "FAILED";
        /** @description LINEAR models once TRAINED, as R's summary.lm computes it from the same fit (null for RIDGE and LASSO, whose penalised estimates have no such table) */
        ModelSummary: {
            /** @description R's coefficient table (summary(lm), confint) */
            coefficients: {
                /** @description (Intercept), then the features */
                term: string;
                estimate: number;
                stdError: number | null;
                /** @description t = estimate / stdError */
                statistic: number | null;
                /** @description two-sided, on dfResidual degrees of freedom */
                pValue: number | null;
                confLow: number | null;
                confHigh: number | null;
            }[];
            /** @description residual standard error */
            sigma: number | null;
            dfResidual: number;
            /** @description uncentred without an intercept, as R */
            r2: number | null;
            adjR2: number | null;
            fStatistic: number | null;
            fDf: {
                numerator: number;
                denominator: number;
            };
            fPValue: number | null;
            logLik: number | null;
            aic: number | null;
            bic: number | null;
            nobs: number;
            /** @description the confidence intervals' level (the job's `level`, default 0.95) */
            level: number;
            /** @description why some statistics are null: no residual degrees of freedom, aliased columns, a perfect fit */
            note?: string;
        };
        /**
         * @example {
         *       "modelId": "01JH5Z3V8Q6K9W2X4Y7Z0A1B2D",
         *       "predictions": [
         *         21
         *       ],
         *       "value": 21,
         *       "timestamp": "2026-11-30T12:00:02.000Z"
         *     }
         */
        Prediction: {
            modelId: components["schemas"]["ModelId"];
            /** @description one per input, in input order */
            predictions: number[];
            /** @description the single prediction, when the request had `x` */
            value?: number;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            timestamp: string;
        };
        /** @description A new dataset and how to upload it: one presigned POST, or parts */
        DatasetUpload: components["schemas"]["DatasetPostUpload"] | components["schemas"]["DatasetMultipartUpload"];
        /** @description A new dataset and its presigned POST upload (no `sizeBytes` declared, or at most the multipart threshold, 5 GiB) */
        DatasetPostUpload: {
            datasetId: components["schemas"]["DatasetId"];
            name: string | null;
            status: components["schemas"]["DatasetStatus"];
            sizeBytes: number | null;
            rows: number | null;
            columns: string[];
            format: components["schemas"]["CsvFormat"];
            /** @description each column as the scan learnt it; null until READY */
            schema: components["schemas"]["ColumnSchema"][] | null;
            error: components["schemas"]["DatasetError"] | null;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            createdAt: string;
            validatedAt: string | null;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            expiresAt: string;
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            uploadMethod: "POST";
            /**
             * Format: uri
             * @description POST the form here: every `fields` entry, then the file as the last part, named `file`
             */
            uploadUrl: string;
            /** @description the presigned POST form fields, sent as they are */
            fields: {
                [key: string]: string;
            };
            /**
             * Format: date-time
             * @description the upload (each part, for a multipart upload) must start before this (15 minutes)
             */
            uploadExpiresAt: string;
            /** @description the largest dataset accepted, checked again after upload */
            maxBytes: number;
        };
        /**
         * @description PENDING_UPLOAD -> VALIDATING -> READY | INVALID
         * @enum {string}
         */
        DatasetStatus: "PENDING_UPLOAD" | "VALIDATING" | "READY" | "INVALID";
        /** @description the file's delimiter and decimal separator (POST /datasets `delimiter`, `decimal`) */
        CsvFormat: {
            /** @enum {string} */
            delimiter: "," | ";" | "\t" | "|";
            /** @enum {string} */
            decimal: "." | ",";
        };
        ColumnSchema: {
            /** @description as in the header; `Unnamed: <i>` (0-based) for a column the header left without a name */
            name: string;
            /**
             * @description number: numbers and missing values; category: text with at most 100 distinct values (TRUE/FALSE included), one-hot in a job; text: identifiers, row names (a column without a header name), more distinct values, or numbers mixed with text: never a feature
             * @enum {string}
             */
            type: "number" | "category" | "text";
            /** @description missing values (empty, NA, N/A, NaN, null, NULL, None, #N/A, … as pandas reads them) */
            missing: number;
            /** @description the header had no name here (R row names, a pandas index) */
            generated: boolean;
            /** @description categories: how many levels */
            levelCount: number | null;
            /** @description categories: the first 20 levels by code point (the first is the reference of a one-hot design), with their counts */
            levels: {
                value: string;
                count: number;
            }[] | null;
        };
        /** @description why the dataset is INVALID; `line` and `column` (1-based) point at the first problem */
        DatasetError: {
            code: string;
            message: string;
            line?: number;
            column?: number;
        };
        /** @description A new dataset and its S3 multipart upload (a declared `sizeBytes` above the threshold): PUT each part to its URL, then POST /datasets/{datasetId}/complete with every ETag. GET /datasets/{datasetId}/parts resumes it. */
        DatasetMultipartUpload: {
            datasetId: components["schemas"]["DatasetId"];
            name: string | null;
            status: components["schemas"]["DatasetStatus"];
            sizeBytes: number | null;
            rows: number | null;
            columns: string[];
            format: components["schemas"]["CsvFormat"];
            /** @description each column as the scan learnt it; null until READY */
            schema: components["schemas"]["ColumnSchema"][] | null;
            error: components["schemas"]["DatasetError"] | null;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            createdAt: string;
            validatedAt: string | null;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            expiresAt: string;
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            uploadMethod: "MULTIPART";
            /** @description every part but the last has exactly this many bytes */
            partSizeBytes: number;
            partCount: number;
            /** @description one URL per part, 1..partCount */
            parts: components["schemas"]["PartUrl"][];
            /**
             * Format: date-time
             * @description the upload (each part, for a multipart upload) must start before this (15 minutes)
             */
            uploadExpiresAt: string;
            /** @description the largest dataset accepted, checked again after upload */
            maxBytes: number;
        };
        /** @description a presigned UploadPart URL */
        PartUrl: {
            partNumber: number;
            /**
             * Format: uri
             * @description PUT the part here, its bytes as the body; keep the `ETag` header of the answer. The URL is signed for the part's exact length (partSizeBytes; the last part, the rest of the declared size): S3 refuses another length with 403 SignatureDoesNotMatch
             */
            url: string;
        };
        /** @description Where a multipart upload stands, to resume it */
        UploadParts: {
            datasetId: components["schemas"]["DatasetId"];
            partSizeBytes: number;
            partCount: number;
            /** @description the parts S3 holds, by part number: their ETags go to /complete as they are */
            uploaded: components["schemas"]["UploadedPart"][];
            /** @description fresh URLs for every part not uploaded yet */
            parts: components["schemas"]["PartUrl"][];
            /**
             * Format: date-time
             * @description the upload (each part, for a multipart upload) must start before this (15 minutes)
             */
            uploadExpiresAt: string;
        };
        /** @description a part S3 holds already */
        UploadedPart: {
            partNumber: number;
            etag: string;
            sizeBytes: number;
        };
        Dataset: {
            datasetId: components["schemas"]["DatasetId"];
            name: string | null;
            status: components["schemas"]["DatasetStatus"];
            sizeBytes: number | null;
            rows: number | null;
            columns: string[];
            format: components["schemas"]["CsvFormat"];
            /** @description each column as the scan learnt it; null until READY */
            schema: components["schemas"]["ColumnSchema"][] | null;
            error: components["schemas"]["DatasetError"] | null;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            createdAt: string;
            validatedAt: string | null;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            expiresAt: string;
        };
    };
    responses: {
        /** @description the request is not valid HTTP (BAD_REQUEST) */
        BadRequest: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["BadRequestError"];
            };
        };
        /** @description no such resource of yours (another tenant's is never revealed), or no such route (NOT_FOUND) */
        NotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["NotFoundError"];
            };
        };
        /** @description too many requests for the tenant's usage plan (rate, burst or daily quota) or the stage: retry after Retry-After seconds (RATE_LIMITED) */
        RateLimited: {
            headers: {
                /** @description seconds to wait before retrying */
                "Retry-After": string;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["RateLimitedError"];
            };
        };
        /** @description the request line and headers are too large (REQUEST_HEADER_FIELDS_TOO_LARGE) */
        HeadersTooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["HeadersTooLargeError"];
            };
        };
        /** @description a handler or the authorizer failed unexpectedly (INTERNAL_ERROR) */
        Internal: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["InternalError"];
            };
        };
        /** @description the handler crashed, ran out of time or memory, or answered nothing valid: retry (BAD_GATEWAY) */
        BadGateway: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["BadGatewayError"];
            };
        };
        /** @description the handler did not answer within 29 s, or could not be reached: retry (INTEGRATION_TIMEOUT, INTEGRATION_FAILURE) */
        GatewayTimeout: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["GatewayTimeoutError"];
            };
        };
        /** @description any other status API Gateway answers by itself, in the same shape */
        OtherError: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description a dependency could not serve the request in time: retry after Retry-After seconds (SERVICE_UNAVAILABLE) */
        ServiceUnavailable: {
            headers: {
                /** @description seconds to wait before retrying */
                "Retry-After": string;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ServiceUnavailableError"];
            };
        };
        /** @description the request is invalid; `details` lists every failing field (INVALID_JSON, VALIDATION_ERROR, BAD_REQUEST) */
        InvalidBody: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["InvalidBodyError"];
            };
        };
        /** @description missing or unknown API key (UNAUTHORIZED) */
        Unauthorized: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["UnauthorizedError"];
            };
        };
        /** @description the request body is too large (PAYLOAD_TOO_LARGE) */
        PayloadTooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["PayloadTooLargeError"];
            };
        };
        /** @description the query is invalid; `details` lists every failing field (VALIDATION_ERROR, BAD_REQUEST) */
        InvalidQuery: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["InvalidQueryError"];
            };
        };
    };
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getHealth: {
        parameters: {
            query?: {
                /** @description check the dependencies too */
                deep?: "true" | "false";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the service answers (and, with deep=true, every dependency too) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"] | components["schemas"]["Readiness"];
                };
            };
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            431: components["responses"]["HeadersTooLarge"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            /** @description deep=true: a dependency did not answer within a second; `details` names each one that failed (SERVICE_UNAVAILABLE) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            /** @enum {string} */
                            code: "SERVICE_UNAVAILABLE";
                            message: string;
                            /** @description VALIDATION_ERROR: every failing field */
                            details?: components["schemas"]["FieldIssue"][];
                        };
                    };
                };
            };
            504: components["responses"]["GatewayTimeout"];
            default: components["responses"]["OtherError"];
        };
    };
    getOpenApiDocument: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the OpenAPI document of this API */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        openapi: string;
                    } & {
                        [key: string]: unknown;
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            431: components["responses"]["HeadersTooLarge"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
            default: components["responses"]["OtherError"];
        };
    };
    listJobs: {
        parameters: {
            query?: {
                limit?: string;
                nextToken?: string;
                status?: "QUEUED" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELLED";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of jobs */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobPage"];
                };
            };
            400: components["responses"]["InvalidQuery"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            431: components["responses"]["HeadersTooLarge"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
            default: components["responses"]["OtherError"];
        };
    };
    createJob: {
        parameters: {
            query?: never;
            header?: {
                /** @description the same key and body within 24 h answers the same job (202 again); the same key with another body is 409. Per tenant. */
                "Idempotency-Key"?: string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateJobRequest"];
            };
        };
        responses: {
            /** @description the job, QUEUED (or as the first request with this Idempotency-Key left it) */
            202: {
                headers: {
                    /** @description the job: /jobs/{jobId} */
                    Location: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Job"];
                };
            };
            400: components["responses"]["InvalidBody"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            /** @description the Idempotency-Key was used with another body, or its first request is still in progress (retry after Retry-After), or the dataset is not READY (IDEMPOTENCY_CONFLICT, IDEMPOTENCY_IN_PROGRESS, DATASET_NOT_READY) */
            409: {
                headers: {
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            /** @enum {string} */
                            code: "IDEMPOTENCY_CONFLICT" | "IDEMPOTENCY_IN_PROGRESS" | "DATASET_NOT_READY";
                            message: string;
                            /** @description VALIDATION_ERROR: every failing field */
                            details?: components["schemas"]["FieldIssue"][];
                        };
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            /** @description too many jobs queued or running for this key, or too many requests (TOO_MANY_ACTIVE_JOBS, RATE_LIMITED) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            /** @enum {string} */
                            code: "TOO_MANY_ACTIVE_JOBS" | "RATE_LIMITED";
                            message: string;
                            /** @description VALIDATION_ERROR: every failing field */
                            details?: components["schemas"]["FieldIssue"][];
                        };
                    };
                };
            };
            431: components["responses"]["HeadersTooLarge"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            /** @description the training workflow could not be started (the job is FAILED; submit again), or a dependency could not serve the request (retry after Retry-After) (WORKFLOW_START_FAILED, SERVICE_UNAVAILABLE) */
            503: {
                headers: {
                    "Retry-After"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            /** @enum {string} */
                            code: "WORKFLOW_START_FAILED" | "SERVICE_UNAVAILABLE";
                            message: string;
                            /** @description VALIDATION_ERROR: every failing field */
                            details?: components["schemas"]["FieldIssue"][];
                        };
                    };
                };
            };
            504: components["responses"]["GatewayTimeout"];
            default: components["responses"]["OtherError"];
        };
    };
    getJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a job id (26-character ULID) */
                jobId: components["schemas"]["JobId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the job */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Job"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            431: components["responses"]["HeadersTooLarge"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
            default: components["responses"]["OtherError"];
        };
    };
    listJobEvents: {
        parameters: {
            query?: {
                limit?: string;
                nextToken?: string;
            };
            header?: never;
            path: {
                /** @description a job id (26-character ULID) */
                jobId: components["schemas"]["JobId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of events */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["JobEventPage"];
                };
            };
            400: components["responses"]["InvalidQuery"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            431: components["responses"]["HeadersTooLarge"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
            default: components["responses"]["OtherError"];
        };
    };
    cancelJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a job id (26-character ULID) */
                jobId: components["schemas"]["JobId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the job, CANCELLED (its model FAILED) */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Job"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            /** @description the job already ended (JOB_NOT_CANCELLABLE) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            /** @enum {string} */
                            code: "JOB_NOT_CANCELLABLE";
                            message: string;
                            /** @description VALIDATION_ERROR: every failing field */
                            details?: components["schemas"]["FieldIssue"][];
                        };
                    };
                };
            };
            429: components["responses"]["RateLimited"];
            431: components["responses"]["HeadersTooLarge"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
            default: components["responses"]["OtherError"];
        };
    };
    listModels: {
        parameters: {
            query?: {
                limit?: string;
                nextToken?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description a page of models */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ModelPage"];
                };
            };
            400: components["responses"]["InvalidQuery"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            431: components["responses"]["HeadersTooLarge"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
            default: components["responses"]["OtherError"];
        };
    };
    getModel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a model id (26-character ULID) */
                modelId: components["schemas"]["ModelId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the model */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Model"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            431: components["responses"]["HeadersTooLarge"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
            default: components["responses"]["OtherError"];
        };
    };
    predict: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a model id (26-character ULID) */
                modelId: components["schemas"]["ModelId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PredictRequest"];
            };
        };
        responses: {
            /** @description the predictions */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Prediction"];
                };
            };
            400: components["responses"]["InvalidBody"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            /** @description the model is not TRAINED (MODEL_NOT_READY) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            /** @enum {string} */
                            code: "MODEL_NOT_READY";
                            message: string;
                            /** @description VALIDATION_ERROR: every failing field */
                            details?: components["schemas"]["FieldIssue"][];
                        };
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            429: components["responses"]["RateLimited"];
            431: components["responses"]["HeadersTooLarge"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
            default: components["responses"]["OtherError"];
        };
    };
    createDataset: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    name?: string;
                    sizeBytes?: number;
                    /** @enum {string} */
                    delimiter?: "," | ";" | "\t" | "|";
                    /** @enum {string} */
                    decimal?: "." | ",";
                };
            };
        };
        responses: {
            /** @description the dataset, PENDING_UPLOAD, and its upload */
            201: {
                headers: {
                    /** @description the dataset: /datasets/{datasetId} */
                    Location: string;
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DatasetUpload"];
                };
            };
            /** @description the request is invalid, or `sizeBytes` is above the limit (`maxBytes`) (INVALID_JSON, VALIDATION_ERROR, DATASET_TOO_LARGE, BAD_REQUEST) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            /** @enum {string} */
                            code: "INVALID_JSON" | "VALIDATION_ERROR" | "DATASET_TOO_LARGE" | "BAD_REQUEST";
                            message: string;
                            /** @description VALIDATION_ERROR: every failing field */
                            details?: components["schemas"]["FieldIssue"][];
                        };
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["PayloadTooLarge"];
            429: components["responses"]["RateLimited"];
            431: components["responses"]["HeadersTooLarge"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
            default: components["responses"]["OtherError"];
        };
    };
    getUploadParts: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a dataset id (26-character ULID) */
                datasetId: components["schemas"]["DatasetId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the upload so far */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UploadParts"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            /** @description the dataset is not uploaded in parts, its upload is complete, or the upload was aborted or expired (create a new dataset) (NOT_A_MULTIPART_UPLOAD, UPLOAD_ALREADY_COMPLETE, UPLOAD_EXPIRED) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            /** @enum {string} */
                            code: "NOT_A_MULTIPART_UPLOAD" | "UPLOAD_ALREADY_COMPLETE" | "UPLOAD_EXPIRED";
                            message: string;
                            /** @description VALIDATION_ERROR: every failing field */
                            details?: components["schemas"]["FieldIssue"][];
                        };
                    };
                };
            };
            429: components["responses"]["RateLimited"];
            431: components["responses"]["HeadersTooLarge"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
            default: components["responses"]["OtherError"];
        };
    };
    completeUpload: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a dataset id (26-character ULID) */
                datasetId: components["schemas"]["DatasetId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    parts: {
                        partNumber: number;
                        etag: string;
                    }[];
                };
            };
        };
        responses: {
            /** @description the dataset, its upload complete (PENDING_UPLOAD or VALIDATING) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Dataset"];
                };
            };
            /** @description the body is invalid; or a part is missing, out of order, not uploaded or with another ETag (INVALID_PART, INVALID_PART_ORDER), or a part but the last is shorter than partSizeBytes (PART_TOO_SMALL); or a part S3 holds is longer than the declared size allows (PART_TOO_LARGE: the upload is aborted, create a new dataset) (INVALID_JSON, VALIDATION_ERROR, INVALID_PART, INVALID_PART_ORDER, PART_TOO_SMALL, PART_TOO_LARGE, BAD_REQUEST) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            /** @enum {string} */
                            code: "INVALID_JSON" | "VALIDATION_ERROR" | "INVALID_PART" | "INVALID_PART_ORDER" | "PART_TOO_SMALL" | "PART_TOO_LARGE" | "BAD_REQUEST";
                            message: string;
                            /** @description VALIDATION_ERROR: every failing field */
                            details?: components["schemas"]["FieldIssue"][];
                        };
                    };
                };
            };
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            /** @description the dataset is not uploaded in parts, its upload is complete already, or the upload was aborted or expired (create a new dataset) (NOT_A_MULTIPART_UPLOAD, UPLOAD_ALREADY_COMPLETE, UPLOAD_EXPIRED) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        error: {
                            /** @enum {string} */
                            code: "NOT_A_MULTIPART_UPLOAD" | "UPLOAD_ALREADY_COMPLETE" | "UPLOAD_EXPIRED";
                            message: string;
                            /** @description VALIDATION_ERROR: every failing field */
                            details?: components["schemas"]["FieldIssue"][];
                        };
                    };
                };
            };
            413: components["responses"]["PayloadTooLarge"];
            429: components["responses"]["RateLimited"];
            431: components["responses"]["HeadersTooLarge"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
            default: components["responses"]["OtherError"];
        };
    };
    getDataset: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description a dataset id (26-character ULID) */
                datasetId: components["schemas"]["DatasetId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the dataset */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Dataset"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            431: components["responses"]["HeadersTooLarge"];
            500: components["responses"]["Internal"];
            502: components["responses"]["BadGateway"];
            503: components["responses"]["ServiceUnavailable"];
            504: components["responses"]["GatewayTimeout"];
            default: components["responses"]["OtherError"];
        };
    };
}
