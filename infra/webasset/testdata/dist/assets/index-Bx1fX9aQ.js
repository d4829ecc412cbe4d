console.log("miyabi fixture");
