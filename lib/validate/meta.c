/*
 * meta.c - the meta-schemas of draft 2020-12 and draft-07, built in.
 *
 * These are the documents published by the JSON Schema project at the URIs
 * they name (compacted; titles kept).  They are used to check a schema
 * before it is compiled, and they answer a $ref to a meta-schema without
 * the network.
 */
#include <string.h>

#include "schema.h"

static const struct { const char *uri; const char *doc; } metas[] = {
	{ "https://json-schema.org/draft/2020-12/schema",
	  "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"https://json-schem"
	  "a.org/draft/2020-12/schema\",\"$vocabulary\":{\"https://json-schema.org/draft/2020-12/voca"
	  "b/core\":true,\"https://json-schema.org/draft/2020-12/vocab/applicator\":true,\"https://js"
	  "on-schema.org/draft/2020-12/vocab/unevaluated\":true,\"https://json-schema.org/draft/2020-"
	  "12/vocab/validation\":true,\"https://json-schema.org/draft/2020-12/vocab/meta-data\":true,"
	  "\"https://json-schema.org/draft/2020-12/vocab/format-annotation\":true,\"https://json-sche"
	  "ma.org/draft/2020-12/vocab/content\":true},\"$dynamicAnchor\":\"meta\",\"title\":\"Core an"
	  "d Validation specifications meta-schema\",\"allOf\":[{\"$ref\":\"meta/core\"},{\"$ref\":\""
	  "meta/applicator\"},{\"$ref\":\"meta/unevaluated\"},{\"$ref\":\"meta/validation\"},{\"$ref\""
	  ":\"meta/meta-data\"},{\"$ref\":\"meta/format-annotation\"},{\"$ref\":\"meta/content\"}],\""
	  "type\":[\"object\",\"boolean\"],\"properties\":{\"definitions\":{\"type\":\"object\",\"add"
	  "itionalProperties\":{\"$dynamicRef\":\"#meta\"},\"deprecated\":true,\"default\":{}},\"depe"
	  "ndencies\":{\"type\":\"object\",\"additionalProperties\":{\"anyOf\":[{\"$dynamicRef\":\"#m"
	  "eta\"},{\"$ref\":\"meta/validation#/$defs/stringArray\"}]},\"deprecated\":true,\"default\""
	  ":{}},\"$recursiveAnchor\":{\"$ref\":\"meta/core#/$defs/anchorString\",\"deprecated\":true}"
	  ",\"$recursiveRef\":{\"$ref\":\"meta/core#/$defs/uriReferenceString\",\"deprecated\":true}}"
	  "}"
	},
	{ "https://json-schema.org/draft/2020-12/meta/core",
	  "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"https://json-schem"
	  "a.org/draft/2020-12/meta/core\",\"$vocabulary\":{\"https://json-schema.org/draft/2020-12/v"
	  "ocab/core\":true},\"$dynamicAnchor\":\"meta\",\"title\":\"Core vocabulary meta-schema\",\""
	  "type\":[\"object\",\"boolean\"],\"properties\":{\"$id\":{\"$ref\":\"#/$defs/uriReferenceSt"
	  "ring\",\"pattern\":\"^[^#]*#?$\"},\"$schema\":{\"$ref\":\"#/$defs/uriString\"},\"$ref\":{\""
	  "$ref\":\"#/$defs/uriReferenceString\"},\"$anchor\":{\"$ref\":\"#/$defs/anchorString\"},\"$"
	  "dynamicRef\":{\"$ref\":\"#/$defs/uriReferenceString\"},\"$dynamicAnchor\":{\"$ref\":\"#/$d"
	  "efs/anchorString\"},\"$vocabulary\":{\"type\":\"object\",\"propertyNames\":{\"$ref\":\"#/$"
	  "defs/uriString\"},\"additionalProperties\":{\"type\":\"boolean\"}},\"$comment\":{\"type\":"
	  "\"string\"},\"$defs\":{\"type\":\"object\",\"additionalProperties\":{\"$dynamicRef\":\"#me"
	  "ta\"}}},\"$defs\":{\"anchorString\":{\"type\":\"string\",\"pattern\":\"^[A-Za-z_][-A-Za-z0"
	  "-9._]*$\"},\"uriString\":{\"type\":\"string\",\"format\":\"uri\"},\"uriReferenceString\":{"
	  "\"type\":\"string\",\"format\":\"uri-reference\"}}}"
	},
	{ "https://json-schema.org/draft/2020-12/meta/applicator",
	  "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"https://json-schem"
	  "a.org/draft/2020-12/meta/applicator\",\"$vocabulary\":{\"https://json-schema.org/draft/202"
	  "0-12/vocab/applicator\":true},\"$dynamicAnchor\":\"meta\",\"title\":\"Applicator vocabular"
	  "y meta-schema\",\"type\":[\"object\",\"boolean\"],\"properties\":{\"prefixItems\":{\"$ref\""
	  ":\"#/$defs/schemaArray\"},\"items\":{\"$dynamicRef\":\"#meta\"},\"contains\":{\"$dynamicRe"
	  "f\":\"#meta\"},\"additionalProperties\":{\"$dynamicRef\":\"#meta\"},\"properties\":{\"type"
	  "\":\"object\",\"additionalProperties\":{\"$dynamicRef\":\"#meta\"},\"default\":{}},\"patte"
	  "rnProperties\":{\"type\":\"object\",\"additionalProperties\":{\"$dynamicRef\":\"#meta\"},\""
	  "propertyNames\":{\"format\":\"regex\"},\"default\":{}},\"dependentSchemas\":{\"type\":\"ob"
	  "ject\",\"additionalProperties\":{\"$dynamicRef\":\"#meta\"},\"default\":{}},\"propertyName"
	  "s\":{\"$dynamicRef\":\"#meta\"},\"if\":{\"$dynamicRef\":\"#meta\"},\"then\":{\"$dynamicRef"
	  "\":\"#meta\"},\"else\":{\"$dynamicRef\":\"#meta\"},\"allOf\":{\"$ref\":\"#/$defs/schemaArr"
	  "ay\"},\"anyOf\":{\"$ref\":\"#/$defs/schemaArray\"},\"oneOf\":{\"$ref\":\"#/$defs/schemaArr"
	  "ay\"},\"not\":{\"$dynamicRef\":\"#meta\"}},\"$defs\":{\"schemaArray\":{\"type\":\"array\","
	  "\"minItems\":1,\"items\":{\"$dynamicRef\":\"#meta\"}}}}"
	},
	{ "https://json-schema.org/draft/2020-12/meta/unevaluated",
	  "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"https://json-schem"
	  "a.org/draft/2020-12/meta/unevaluated\",\"$vocabulary\":{\"https://json-schema.org/draft/20"
	  "20-12/vocab/unevaluated\":true},\"$dynamicAnchor\":\"meta\",\"title\":\"Unevaluated applic"
	  "ator vocabulary meta-schema\",\"type\":[\"object\",\"boolean\"],\"properties\":{\"unevalua"
	  "tedItems\":{\"$dynamicRef\":\"#meta\"},\"unevaluatedProperties\":{\"$dynamicRef\":\"#meta\""
	  "}}}"
	},
	{ "https://json-schema.org/draft/2020-12/meta/validation",
	  "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"https://json-schem"
	  "a.org/draft/2020-12/meta/validation\",\"$vocabulary\":{\"https://json-schema.org/draft/202"
	  "0-12/vocab/validation\":true},\"$dynamicAnchor\":\"meta\",\"title\":\"Validation vocabular"
	  "y meta-schema\",\"type\":[\"object\",\"boolean\"],\"properties\":{\"type\":{\"anyOf\":[{\""
	  "$ref\":\"#/$defs/simpleTypes\"},{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/simpleTy"
	  "pes\"},\"minItems\":1,\"uniqueItems\":true}]},\"const\":true,\"enum\":{\"type\":\"array\","
	  "\"items\":true},\"multipleOf\":{\"type\":\"number\",\"exclusiveMinimum\":0},\"maximum\":{\""
	  "type\":\"number\"},\"exclusiveMaximum\":{\"type\":\"number\"},\"minimum\":{\"type\":\"numb"
	  "er\"},\"exclusiveMinimum\":{\"type\":\"number\"},\"maxLength\":{\"$ref\":\"#/$defs/nonNega"
	  "tiveInteger\"},\"minLength\":{\"$ref\":\"#/$defs/nonNegativeIntegerDefault0\"},\"pattern\""
	  ":{\"type\":\"string\",\"format\":\"regex\"},\"maxItems\":{\"$ref\":\"#/$defs/nonNegativeIn"
	  "teger\"},\"minItems\":{\"$ref\":\"#/$defs/nonNegativeIntegerDefault0\"},\"uniqueItems\":{\""
	  "type\":\"boolean\",\"default\":false},\"maxContains\":{\"$ref\":\"#/$defs/nonNegativeInteg"
	  "er\"},\"minContains\":{\"$ref\":\"#/$defs/nonNegativeInteger\",\"default\":1},\"maxPropert"
	  "ies\":{\"$ref\":\"#/$defs/nonNegativeInteger\"},\"minProperties\":{\"$ref\":\"#/$defs/nonN"
	  "egativeIntegerDefault0\"},\"required\":{\"$ref\":\"#/$defs/stringArray\"},\"dependentRequi"
	  "red\":{\"type\":\"object\",\"additionalProperties\":{\"$ref\":\"#/$defs/stringArray\"}}},\""
	  "$defs\":{\"nonNegativeInteger\":{\"type\":\"integer\",\"minimum\":0},\"nonNegativeIntegerD"
	  "efault0\":{\"$ref\":\"#/$defs/nonNegativeInteger\",\"default\":0},\"simpleTypes\":{\"enum\""
	  ":[\"array\",\"boolean\",\"integer\",\"null\",\"number\",\"object\",\"string\"]},\"stringAr"
	  "ray\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"uniqueItems\":true,\"default\""
	  ":[]}}}"
	},
	{ "https://json-schema.org/draft/2020-12/meta/meta-data",
	  "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"https://json-schem"
	  "a.org/draft/2020-12/meta/meta-data\",\"$vocabulary\":{\"https://json-schema.org/draft/2020"
	  "-12/vocab/meta-data\":true},\"$dynamicAnchor\":\"meta\",\"title\":\"Meta-data vocabulary m"
	  "eta-schema\",\"type\":[\"object\",\"boolean\"],\"properties\":{\"title\":{\"type\":\"strin"
	  "g\"},\"description\":{\"type\":\"string\"},\"default\":true,\"deprecated\":{\"type\":\"boo"
	  "lean\",\"default\":false},\"readOnly\":{\"type\":\"boolean\",\"default\":false},\"writeOnl"
	  "y\":{\"type\":\"boolean\",\"default\":false},\"examples\":{\"type\":\"array\",\"items\":tr"
	  "ue}}}"
	},
	{ "https://json-schema.org/draft/2020-12/meta/format-annotation",
	  "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"https://json-schem"
	  "a.org/draft/2020-12/meta/format-annotation\",\"$vocabulary\":{\"https://json-schema.org/dr"
	  "aft/2020-12/vocab/format-annotation\":true},\"$dynamicAnchor\":\"meta\",\"title\":\"Format"
	  " vocabulary meta-schema for annotation results\",\"type\":[\"object\",\"boolean\"],\"prope"
	  "rties\":{\"format\":{\"type\":\"string\"}}}"
	},
	{ "https://json-schema.org/draft/2020-12/meta/format-assertion",
	  "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"https://json-schem"
	  "a.org/draft/2020-12/meta/format-assertion\",\"$vocabulary\":{\"https://json-schema.org/dra"
	  "ft/2020-12/vocab/format-assertion\":true},\"$dynamicAnchor\":\"meta\",\"title\":\"Format v"
	  "ocabulary meta-schema for assertion results\",\"type\":[\"object\",\"boolean\"],\"properti"
	  "es\":{\"format\":{\"type\":\"string\"}}}"
	},
	{ "https://json-schema.org/draft/2020-12/meta/content",
	  "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"https://json-schem"
	  "a.org/draft/2020-12/meta/content\",\"$vocabulary\":{\"https://json-schema.org/draft/2020-1"
	  "2/vocab/content\":true},\"$dynamicAnchor\":\"meta\",\"title\":\"Content vocabulary meta-sc"
	  "hema\",\"type\":[\"object\",\"boolean\"],\"properties\":{\"contentEncoding\":{\"type\":\"s"
	  "tring\"},\"contentMediaType\":{\"type\":\"string\"},\"contentSchema\":{\"$dynamicRef\":\"#"
	  "meta\"}}}"
	},
	{ "http://json-schema.org/draft-07/schema",
	  "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"$id\":\"http://json-schema.org/"
	  "draft-07/schema#\",\"title\":\"Core schema meta-schema\",\"definitions\":{\"schemaArray\":"
	  "{\"type\":\"array\",\"minItems\":1,\"items\":{\"$ref\":\"#\"}},\"nonNegativeInteger\":{\"t"
	  "ype\":\"integer\",\"minimum\":0},\"nonNegativeIntegerDefault0\":{\"allOf\":[{\"$ref\":\"#/"
	  "definitions/nonNegativeInteger\"},{\"default\":0}]},\"simpleTypes\":{\"enum\":[\"array\",\""
	  "boolean\",\"integer\",\"null\",\"number\",\"object\",\"string\"]},\"stringArray\":{\"type\""
	  ":\"array\",\"items\":{\"type\":\"string\"},\"uniqueItems\":true,\"default\":[]}},\"type\":"
	  "[\"object\",\"boolean\"],\"properties\":{\"$id\":{\"type\":\"string\",\"format\":\"uri-ref"
	  "erence\"},\"$schema\":{\"type\":\"string\",\"format\":\"uri\"},\"$ref\":{\"type\":\"string"
	  "\",\"format\":\"uri-reference\"},\"$comment\":{\"type\":\"string\"},\"title\":{\"type\":\""
	  "string\"},\"description\":{\"type\":\"string\"},\"default\":true,\"readOnly\":{\"type\":\""
	  "boolean\",\"default\":false},\"writeOnly\":{\"type\":\"boolean\",\"default\":false},\"exam"
	  "ples\":{\"type\":\"array\",\"items\":true},\"multipleOf\":{\"type\":\"number\",\"exclusive"
	  "Minimum\":0},\"maximum\":{\"type\":\"number\"},\"exclusiveMaximum\":{\"type\":\"number\"},"
	  "\"minimum\":{\"type\":\"number\"},\"exclusiveMinimum\":{\"type\":\"number\"},\"maxLength\""
	  ":{\"$ref\":\"#/definitions/nonNegativeInteger\"},\"minLength\":{\"$ref\":\"#/definitions/n"
	  "onNegativeIntegerDefault0\"},\"pattern\":{\"type\":\"string\",\"format\":\"regex\"},\"addi"
	  "tionalItems\":{\"$ref\":\"#\"},\"items\":{\"anyOf\":[{\"$ref\":\"#\"},{\"$ref\":\"#/defini"
	  "tions/schemaArray\"}],\"default\":true},\"maxItems\":{\"$ref\":\"#/definitions/nonNegative"
	  "Integer\"},\"minItems\":{\"$ref\":\"#/definitions/nonNegativeIntegerDefault0\"},\"uniqueIt"
	  "ems\":{\"type\":\"boolean\",\"default\":false},\"contains\":{\"$ref\":\"#\"},\"maxProperti"
	  "es\":{\"$ref\":\"#/definitions/nonNegativeInteger\"},\"minProperties\":{\"$ref\":\"#/defin"
	  "itions/nonNegativeIntegerDefault0\"},\"required\":{\"$ref\":\"#/definitions/stringArray\"}"
	  ",\"additionalProperties\":{\"$ref\":\"#\"},\"definitions\":{\"type\":\"object\",\"addition"
	  "alProperties\":{\"$ref\":\"#\"},\"default\":{}},\"properties\":{\"type\":\"object\",\"addi"
	  "tionalProperties\":{\"$ref\":\"#\"},\"default\":{}},\"patternProperties\":{\"type\":\"obje"
	  "ct\",\"additionalProperties\":{\"$ref\":\"#\"},\"propertyNames\":{\"format\":\"regex\"},\""
	  "default\":{}},\"dependencies\":{\"type\":\"object\",\"additionalProperties\":{\"anyOf\":[{"
	  "\"$ref\":\"#\"},{\"$ref\":\"#/definitions/stringArray\"}]}},\"propertyNames\":{\"$ref\":\""
	  "#\"},\"const\":true,\"enum\":{\"type\":\"array\",\"items\":true},\"type\":{\"anyOf\":[{\"$"
	  "ref\":\"#/definitions/simpleTypes\"},{\"type\":\"array\",\"items\":{\"$ref\":\"#/definitio"
	  "ns/simpleTypes\"},\"minItems\":1,\"uniqueItems\":true}]},\"format\":{\"type\":\"string\"},"
	  "\"contentMediaType\":{\"type\":\"string\"},\"contentEncoding\":{\"type\":\"string\"},\"if\""
	  ":{\"$ref\":\"#\"},\"then\":{\"$ref\":\"#\"},\"else\":{\"$ref\":\"#\"},\"allOf\":{\"$ref\":"
	  "\"#/definitions/schemaArray\"},\"anyOf\":{\"$ref\":\"#/definitions/schemaArray\"},\"oneOf\""
	  ":{\"$ref\":\"#/definitions/schemaArray\"},\"not\":{\"$ref\":\"#\"}},\"default\":true}"
	},
};

const char *mig_v_meta_find(const char *uri, size_t len)
{
	for (size_t i = 0; i < sizeof metas / sizeof metas[0]; i++)
		if (strlen(metas[i].uri) == len && memcmp(metas[i].uri, uri, len) == 0)
			return metas[i].doc;
	return NULL;
}
