const request = require('request');
const fs = require('fs');

const file_list = ['/testfiles/blah.jpeg'];
const api_url = 'https://api.backgroundremoverai.com/v1/convert/';
const results_url = 'https://api.backgroundremoverai.com/v1/results/';

function convertFiles(file_list) {
  const formData = {
    lang: 'en',
    convert_to: 'image-backgroundremover',
    model: 'u2net',
    alpha_matting: 'true',
  };

  for (var i = 0; i < file_list.length; i++) {
    formData['files'] = fs.createReadStream(file_list[i]);
  }

  request(
    {
      url: api_url,
      method: 'post',
      formData: formData,
      headers: {
        Authorization: 'YOUR_API_KEY',
        'Content-Type': 'multipart/form-data',
      },
    },
    (err, res, body) => {
      if (err) {
        console.error(err);
        return err;
      }
      getResults(JSON.parse(body));
    },
  );
}

function getResults(data) {
  if (data.error) {
    console.error(data);
    return data.error;
  }
  request(
    {
      url: results_url,
      method: 'post',
      formData: data,
    },
    (e, r, body) => {
      response = JSON.parse(body);
      console.log(response);
      if (!response.finished) {
        setTimeout(() => {
          getResults(data);
        }, 1000);
      }

      console.log(response);
    },
  );
}

convertFiles(file_list);
